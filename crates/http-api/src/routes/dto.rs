//! Request and response bodies. Request bodies reject unknown fields, so privileged fields
//! (`roles`, `tier`, `is_active`, `is_verified`, `id`) can never be set through them.

use ainative_auth::TokenPair;
use ainative_domain::{AuditEntry, Paginated, User};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A user as clients see it. The password hash never leaves the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub student_id: Option<String>,
    #[schema(example = json!(["student"]))]
    pub roles: Vec<String>,
    #[schema(example = "free")]
    pub tier: String,
    pub is_active: bool,
    pub is_verified: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub login_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
            full_name: u.full_name.clone(),
            student_id: u.student_id.clone(),
            roles: u.roles.names(),
            tier: u.tier.as_str().to_owned(),
            is_active: u.is_active,
            is_verified: u.is_verified,
            last_login: u.last_login,
            login_count: u.login_count,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Access and refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: p.token_type.to_owned(),
            expires_in: p.expires_in,
        }
    }
}

/// Token pair plus the user: the answer to register and login.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub user: UserResponse,
}

impl AuthResponse {
    pub fn new(user: &User, tokens: TokenPair) -> Self {
        let t = TokenResponse::from(tokens);
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
            user: user.into(),
        }
    }
}

/// Self-registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "ada_l")]
    pub username: String,
    #[schema(example = "Analytical7Engine")]
    pub password: String,
    #[schema(example = "Ada Lovelace")]
    pub full_name: String,
    #[serde(default)]
    pub student_id: Option<String>,
}

/// Login with e-mail or username.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    pub password: String,
}

/// The OAuth2 password grant form (RFC 6749 §4.3).
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    pub grant_type: String,
    /// E-mail address or username.
    pub username: String,
    pub password: String,
}

/// RFC 6749 token response (not enveloped).
#[derive(Serialize, ToSchema)]
pub struct OAuthTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// Refresh-token rotation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// The limiter's view of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitStatus {
    pub tier: String,
    /// Requests per minute; 0 when unlimited.
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub unlimited: bool,
}

/// Admin change of a user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchRequest {
    #[serde(default)]
    #[schema(example = json!(["student", "instructor"]))]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    #[schema(example = "premium")]
    pub tier: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Pagination and filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// 1..=100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
    /// student, instructor or admin.
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

/// Pagination only.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1..=100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T: ToSchema> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

impl<T: ToSchema> PageOf<T> {
    pub fn from_domain<D>(page: Paginated<D>, f: impl FnMut(D) -> T) -> Self {
        let page = page.map(f);
        Self {
            items: page.items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

/// An audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResponse {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: Uuid,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditResponse {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            actor_id: e.actor_id,
            action: e.action.as_str().to_owned(),
            target_type: e.target_type,
            target_id: e.target_id,
            details: e.details,
            created_at: e.created_at,
        }
    }
}

/// A verification link's token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `token` of the link.
    pub token: String,
}

/// Asks for a password reset link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequestBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

/// Sets a new password with a reset link's token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetBody {
    /// The `token` of the link.
    pub token: String,
    pub new_password: String,
}
