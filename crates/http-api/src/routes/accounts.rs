//! `/api/v1/auth` account flows through mail: e-mail verification and password reset
//! (SPEC §10.1). Registered inside the `/auth` scope by [`super::auth::configure`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ainative_auth::AccountService;

use super::dto::{
    PasswordResetBody, PasswordResetRequestBody, TokenResponse, UserResponse, VerifyEmailRequest,
};
use super::resource;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Client, Json, NoFields, OptionalJson};

/// The answer to a reset request, identical whether or not the address has an account.
pub const RESET_REQUESTED: &str =
    "if an account uses this address, a password reset link is on its way";

/// Adds the routes to the `/auth` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/verify-email/request", "POST").route(web::post().to(request_verification)),
    )
    .service(resource("/verify-email", "POST").route(web::post().to(verify_email)))
    .service(
        resource("/password-reset/request", "POST").route(web::post().to(request_password_reset)),
    )
    .service(resource("/password-reset", "POST").route(web::post().to(reset_password)));
}

/// Send the caller a new verification link (nothing is sent when the address is verified).
#[utoipa::path(post, path = "/api/v1/auth/verify-email/request", tag = "auth", security(("bearer" = [])),
    responses((status = 202, description = "A link is on its way (or the address is verified already)"),
              (status = 401, description = "Not authenticated"),
              (status = 429, description = "Too many mails to this address this hour")))]
pub async fn request_verification(
    accounts: web::Data<AccountService>,
    caller: Caller,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    let sent = accounts.request_verification(&caller).await?;
    let message = if sent {
        "a verification link is on its way"
    } else {
        "the address is verified already"
    };
    Ok(envelope::with_status(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "sent": sent }),
        Some(message),
    ))
}

/// Confirm an e-mail address with the token of a verification link.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest,
    responses((status = 200, description = "Verified; the user", body = UserResponse),
              (status = 400, description = "`INVALID_TOKEN`: malformed, unknown, used, expired or outdated token; or malformed JSON"),
              (status = 422, description = "`token` missing or an unknown field")))]
pub async fn verify_email(
    accounts: web::Data<AccountService>,
    body: Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts.verify_email(&body.token).await?;
    Ok(envelope::ok(&UserResponse::from(&user)))
}

/// Ask for a password reset link. The answer is the same whether or not an account uses
/// the address.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/request", tag = "auth", request_body = PasswordResetRequestBody,
    responses((status = 202, description = "Accepted (the same for every well-formed address)"),
              (status = 400, description = "Malformed JSON"),
              (status = 422, description = "Not an e-mail address"),
              (status = 429, description = "Too many requests from this client IP this hour")))]
pub async fn request_password_reset(
    accounts: web::Data<AccountService>,
    client: Client,
    body: Json<PasswordResetRequestBody>,
) -> Result<HttpResponse, ApiError> {
    accounts
        .request_password_reset(&body.email, Some(client.0))
        .await?;
    Ok(envelope::with_status(
        StatusCode::ACCEPTED,
        &serde_json::Value::Null,
        Some(RESET_REQUESTED),
    ))
}

/// Set a new password with the token of a reset link. Every session of the user ends; the
/// answer holds the token pair of a new one.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordResetBody,
    responses((status = 200, description = "Password set; token pair of a new session", body = TokenResponse),
              (status = 400, description = "`INVALID_TOKEN`: malformed, unknown, used, expired or outdated token; or malformed JSON"),
              (status = 422, description = "The new password breaks a rule")))]
pub async fn reset_password(
    accounts: web::Data<AccountService>,
    body: Json<PasswordResetBody>,
) -> Result<HttpResponse, ApiError> {
    let pair = accounts
        .reset_password(&body.token, &body.new_password)
        .await?;
    Ok(envelope::ok(&TokenResponse::from(pair)))
}
