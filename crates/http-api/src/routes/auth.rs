//! `/api/v1/auth`: registration, login, tokens, logout, the caller's own account.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, Responder};
use ainative_auth::{AccountService, AuthError, AuthService, RegisterInput};
use ainative_domain::ValidationErrors;
use ainative_ports::RateLimiter;
use serde::Serialize;

use super::dto::{
    AuthResponse, ChangePasswordRequest, LoginRequest, OAuthTokenResponse, RateLimitStatus,
    RefreshRequest, RegisterRequest, TokenForm, TokenResponse, UserResponse,
};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{form_error, Caller, Client, Json, NoFields, OptionalJson};
use crate::middleware::auth::AuthOutcome;
use crate::middleware::rate_limit::{limit_for, WINDOW};
use crate::state::HttpSettings;

/// Registers the routes. Every auth response is `Cache-Control: no-store`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .service(resource("/register", "POST").route(web::post().to(register)))
            .service(resource("/login", "POST").route(web::post().to(login)))
            .service(
                resource("/token", "POST")
                    .app_data(web::FormConfig::default().limit(16 * 1024).error_handler(
                        |err, _| match form_error(&err) {
                            ApiError::BadRequest(_) => {
                                OAuthError::new("invalid_request", "malformed form body").into()
                            }
                            other => other.into(),
                        },
                    ))
                    .route(web::post().to(token)),
            )
            .service(resource("/refresh", "POST").route(web::post().to(refresh)))
            .service(resource("/logout", "POST").route(web::post().to(logout)))
            .service(resource("/me", "GET").route(web::get().to(me)))
            .service(resource("/change-password", "POST").route(web::post().to(change_password)))
            .service(resource("/rate-limit", "GET").route(web::get().to(rate_limit_status)))
            .configure(super::api_keys::configure_own)
            .configure(super::accounts::configure),
    );
}

/// Register a student account and start a session.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Registered; user and token pair", body = AuthResponse),
              (status = 409, description = "E-mail, username or student id taken"),
              (status = 422, description = "A field broke its rules")))]
pub async fn register(
    auth: web::Data<AuthService>,
    accounts: web::Data<AccountService>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let out = auth
        .register(RegisterInput {
            email: body.email,
            username: body.username,
            password: body.password,
            full_name: body.full_name,
            student_id: body.student_id,
        })
        .await?;
    // Queues the verification mail (a job); a queueing failure never fails the registration.
    accounts.welcome(&out.user).await;
    Ok(envelope::created(&AuthResponse::new(&out.user, out.tokens)))
}

/// Log in with an e-mail address or username and a password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Token pair and user", body = AuthResponse),
              (status = 401, description = "Invalid login or password"),
              (status = 403, description = "Account inactive"),
              (status = 429, description = "Too many failed attempts")))]
pub async fn login(
    auth: web::Data<AuthService>,
    client: Client,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let login = match (body.email, body.username) {
        (Some(email), None) => email,
        (None, Some(username)) => username,
        _ => {
            return Err(
                ValidationErrors::single("email", "give exactly one of email or username").into(),
            )
        }
    };
    let out = auth.login(&login, &body.password, Some(client.0)).await?;
    Ok(envelope::ok(&AuthResponse::new(&out.user, out.tokens)))
}

/// An RFC 6749 error response.
#[derive(Debug, Serialize)]
pub struct OAuthError {
    error: &'static str,
    error_description: &'static str,
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(error: &'static str, error_description: &'static str) -> Self {
        Self {
            error,
            error_description,
            retry_after: None,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error)
    }
}

impl actix_web::ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        if self.retry_after.is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        builder.json(self)
    }
}

/// OAuth2 password grant, so Swagger UI's Authorize works. Answers are RFC 6749, not enveloped.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "RFC 6749 token response", body = OAuthTokenResponse),
              (status = 400, description = "`{\"error\": \"invalid_grant\"}` and the like")))]
pub async fn token(
    auth: web::Data<AuthService>,
    client: Client,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, actix_web::Error> {
    let form = form.into_inner();
    if form.grant_type != "password" {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "only the password grant is supported",
        )
        .into());
    }
    match auth
        .login(&form.username, &form.password, Some(client.0))
        .await
    {
        Ok(out) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(OAuthTokenResponse {
                access_token: out.tokens.access_token,
                token_type: "bearer".into(),
                expires_in: out.tokens.expires_in,
                refresh_token: out.tokens.refresh_token,
            })),
        Err(
            AuthError::InvalidCredentials | AuthError::AccountInactive | AuthError::Validation(_),
        ) => Err(OAuthError::new("invalid_grant", "invalid username or password").into()),
        Err(AuthError::Throttled { retry_after_secs }) => Err(OAuthError {
            retry_after: Some(retry_after_secs),
            ..OAuthError::new("invalid_grant", "too many failed attempts; try again later")
        }
        .into()),
        Err(other) => Err(ApiError::from(other).into()),
    }
}

/// Rotate a refresh token: returns a new pair and retires the old token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "New token pair", body = TokenResponse),
              (status = 401, description = "Invalid, expired, revoked or replayed refresh token")))]
pub async fn refresh(
    auth: web::Data<AuthService>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = auth.refresh(&body.refresh_token).await?;
    Ok(envelope::ok(&TokenResponse::from(pair)))
}

/// End this session: its access token and refresh family stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "Logged out"), (status = 401, description = "Not authenticated")))]
pub async fn logout(
    auth: web::Data<AuthService>,
    caller: Caller,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    auth.logout(&caller).await?;
    Ok(envelope::with_status(
        StatusCode::OK,
        &serde_json::Value::Null,
        Some("logged out"),
    ))
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserResponse), (status = 401, description = "Not authenticated")))]
pub async fn me(auth: web::Data<AuthService>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let user = auth.current_user(&caller).await?;
    Ok(envelope::ok(&UserResponse::from(&user)))
}

/// Change the caller's password; every earlier token of the user stops working.
#[utoipa::path(post, path = "/api/v1/auth/change-password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "New token pair of a new session", body = TokenResponse),
              (status = 422, description = "Current password wrong or new password too weak")))]
pub async fn change_password(
    auth: web::Data<AuthService>,
    caller: Caller,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = auth
        .change_password(&caller, &body.current_password, &body.new_password)
        .await?;
    Ok(envelope::ok(&TokenResponse::from(pair)))
}

/// The rate limiter's view of the caller.
#[utoipa::path(get, path = "/api/v1/auth/rate-limit", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "Limit, remaining and reset", body = RateLimitStatus)))]
pub async fn rate_limit_status(
    caller: Caller,
    settings: web::Data<HttpSettings>,
    limiter: web::Data<dyn RateLimiter>,
) -> Result<impl Responder, ApiError> {
    let outcome = AuthOutcome::Authenticated(caller.0.clone());
    let (key, limit, _) = limit_for(Some(&outcome), None, &settings.rate_limits);
    let status = if limit == 0 {
        RateLimitStatus {
            tier: caller.tier.to_string(),
            limit: 0,
            remaining: 0,
            reset_secs: 0,
            unlimited: true,
        }
    } else {
        let view = limiter
            .peek(&key, limit, WINDOW)
            .await
            .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
        RateLimitStatus {
            tier: caller.tier.to_string(),
            limit: view.limit,
            remaining: view.remaining,
            reset_secs: view.reset_secs,
            unlimited: false,
        }
    };
    Ok(envelope::ok(&status))
}
