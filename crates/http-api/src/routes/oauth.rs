//! `/api/v1/auth/oauth`: social login with Google, GitHub and configured OIDC providers
//! (SPEC §10.2). Tokens never travel in a URL: the callback hands the application a
//! one-time login code, exchanged by POST.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use ainative_auth::{CallbackInput, OAuthService, StartedFlow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::AuthResponse;
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, OptionalJson, Query};

/// The cookie that binds a flow to the browser that started it. `__Host-`: Secure, Path=/,
/// no Domain, so no other host (or subdomain) can set or read it.
pub const FLOW_COOKIE: &str = "__Host-ainative-oauth";

/// Registers the routes (before the `/auth` scope, which would otherwise claim them).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth/oauth")
            .wrap(actix_web::middleware::from_fn(
                crate::middleware::rate_limit::oauth_limit,
            ))
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .service(resource("/exchange", "POST").route(web::post().to(exchange)))
            .service(resource("/accounts", "GET").route(web::get().to(accounts)))
            .service(resource("/accounts/{id}", "DELETE").route(web::delete().to(unlink)))
            .service(resource("/{provider}/authorize", "GET").route(web::get().to(authorize)))
            .service(resource("/{provider}/callback", "GET").route(web::get().to(callback)))
            .service(resource("/{provider}/link", "POST").route(web::post().to(link))),
    );
}

/// `?redirect_uri=` of the authorization request.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuthorizeQuery {
    /// Where the application wants the browser back; must be in `OAUTH_REDIRECT_ALLOWLIST`.
    pub redirect_uri: String,
}

/// What the provider sends back to the callback.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    /// Authorization code.
    pub code: Option<String>,
    /// The `state` of the request.
    pub state: Option<String>,
    /// Set instead of `code` when the user refused or the provider failed.
    pub error: Option<String>,
}

/// The one-time login code from the callback's redirect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The `code` query parameter the application received.
    pub code: String,
}

/// Where to link a provider to the signed-in account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Where the browser returns after linking; must be in `OAUTH_REDIRECT_ALLOWLIST`.
    pub redirect_uri: String,
}

/// A started link flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    /// Send the browser here (in the same browser that received the cookie).
    pub authorization_url: String,
    /// Seconds the flow stays valid.
    pub expires_in: u64,
}

/// A linked provider identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthAccountResponse {
    /// Id of the link (for unlinking).
    pub id: Uuid,
    /// Provider name.
    pub provider: String,
    /// The provider's e-mail address when the link was made.
    pub email: Option<String>,
    /// When the link was made.
    pub created_at: DateTime<Utc>,
}

fn flow_cookie(flow: &StartedFlow) -> String {
    format!(
        "{FLOW_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        flow.browser_binding, flow.expires_in
    )
}

fn cleared_cookie() -> String {
    format!("{FLOW_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The flow cookie of the request (read by hand: actix-web's cookie feature is off).
fn browser_binding(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == FLOW_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Start signing in with a provider: 302 to the provider (authorization code, PKCE S256,
/// single-use `state`, OIDC `nonce`), with a cookie binding the flow to this browser.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/authorize", tag = "oauth",
    params(("provider" = String, Path, description = "google, github or a configured OIDC name"), AuthorizeQuery),
    responses((status = 302, description = "To the provider; sets the `__Host-ainative-oauth` cookie"),
              (status = 400, description = "redirect_uri not allowed"),
              (status = 404, description = "Unknown or disabled provider"),
              (status = 503, description = "Provider or database unavailable")))]
pub async fn authorize(
    oauth: web::Data<OAuthService>,
    provider: web::Path<String>,
    query: Query<AuthorizeQuery>,
) -> Result<HttpResponse, ApiError> {
    let flow = oauth.start(&provider, &query.redirect_uri, None).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, flow.authorization_url.as_str()))
        .insert_header((header::SET_COOKIE, flow_cookie(&flow)))
        .finish())
}

/// The provider's return: checks state, browser cookie, code (PKCE) and ID token, then
/// redirects to the flow's `redirect_uri` with `code=<one-time login code>` (60 s, single
/// use), or with `linked=<provider>` after a link.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/callback", tag = "oauth",
    params(("provider" = String, Path, description = "The provider the flow was started with"), CallbackQuery),
    responses((status = 302, description = "To the application with `code` (or `linked`)"),
              (status = 400, description = "Denied consent, bad/used/expired state, missing cookie, refused code, no e-mail"),
              (status = 401, description = "ID token failed verification"),
              (status = 403, description = "Account inactive"),
              (status = 404, description = "Unknown or disabled provider"),
              (status = 409, description = "`ACCOUNT_EXISTS`: a local account has this e-mail; or the identity is linked to another user"),
              (status = 503, description = "Provider or database unavailable")))]
pub async fn callback(
    oauth: web::Data<OAuthService>,
    provider: web::Path<String>,
    query: Query<CallbackQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let input = CallbackInput {
        code: query.code,
        state: query.state,
        error: query.error,
        browser_binding: browser_binding(&req),
    };
    let target = oauth.callback(&provider, input).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .insert_header((header::SET_COOKIE, cleared_cookie()))
        .finish())
}

/// Exchange the one-time login code for a token pair (a new session).
#[utoipa::path(post, path = "/api/v1/auth/oauth/exchange", tag = "oauth", request_body = ExchangeRequest,
    responses((status = 200, description = "Token pair and user", body = AuthResponse),
              (status = 400, description = "Unknown, used or expired code"),
              (status = 403, description = "Account inactive"),
              (status = 422, description = "Missing or unknown field")))]
pub async fn exchange(
    oauth: web::Data<OAuthService>,
    body: Json<ExchangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let out = oauth.exchange(&body.into_inner().code).await?;
    Ok(envelope::ok(&AuthResponse::new(&out.user, out.tokens)))
}

/// Start linking a provider to the signed-in account; the callback links instead of
/// signing in. Answers the URL to send the browser to, and sets the flow cookie.
#[utoipa::path(post, path = "/api/v1/auth/oauth/{provider}/link", tag = "oauth", security(("bearer" = [])),
    params(("provider" = String, Path, description = "google, github or a configured OIDC name")),
    request_body = LinkRequest,
    responses((status = 200, description = "The authorization URL", body = LinkResponse),
              (status = 400, description = "redirect_uri not allowed"),
              (status = 401, description = "Not authenticated"),
              (status = 404, description = "Unknown or disabled provider"),
              (status = 503, description = "Provider or database unavailable")))]
pub async fn link(
    oauth: web::Data<OAuthService>,
    caller: Caller,
    provider: web::Path<String>,
    body: Json<LinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let flow = oauth
        .start(&provider, &body.redirect_uri, Some(caller.user_id))
        .await?;
    let mut response = envelope::ok(&LinkResponse {
        authorization_url: flow.authorization_url.clone(),
        expires_in: flow.expires_in,
    });
    let cookie = header::HeaderValue::from_str(&flow_cookie(&flow))
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The caller's linked provider identities.
#[utoipa::path(get, path = "/api/v1/auth/oauth/accounts", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, description = "Linked identities, oldest first", body = [OAuthAccountResponse]),
              (status = 401, description = "Not authenticated")))]
pub async fn accounts(
    oauth: web::Data<OAuthService>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let links: Vec<OAuthAccountResponse> = oauth
        .accounts(&caller)
        .await?
        .into_iter()
        .map(|a| OAuthAccountResponse {
            id: a.id,
            provider: a.provider,
            email: a.email,
            created_at: a.created_at,
        })
        .collect();
    Ok(envelope::ok(&links))
}

/// Remove a linked identity, unless it is the caller's last way to sign in.
#[utoipa::path(delete, path = "/api/v1/auth/oauth/accounts/{id}", tag = "oauth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Id of the link")),
    responses((status = 200, description = "Unlinked"),
              (status = 401, description = "Not authenticated"),
              (status = 404, description = "No such link of the caller"),
              (status = 409, description = "It is the last way to sign in")))]
pub async fn unlink(
    oauth: web::Data<OAuthService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<crate::extract::NoFields>,
) -> Result<HttpResponse, ApiError> {
    oauth.unlink(&caller, id.into_inner()).await?;
    Ok(envelope::with_status(
        StatusCode::OK,
        &serde_json::Value::Null,
        Some("unlinked"),
    ))
}
