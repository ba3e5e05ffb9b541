//! Social login: the identity providers (Google, GitHub, any OIDC issuer) and the storage of
//! linked identities, pending authorization flows and one-time login codes.

use ainative_domain::{NewAuditEntry, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Cause, NewUser, PortResult};

/// A provider identity linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthAccount {
    /// Identifier of the link.
    pub id: Uuid,
    /// The user it signs in.
    pub user_id: Uuid,
    /// Provider name (`google`, `github`, or a configured OIDC name).
    pub provider: String,
    /// The provider's stable user id (`sub` for OIDC, the numeric id for GitHub).
    pub provider_user_id: String,
    /// The provider's e-mail address when the link was made.
    pub email: Option<String>,
    /// When the link was made.
    pub created_at: DateTime<Utc>,
}

/// A started authorization flow, waiting for the provider's callback. Secrets are stored
/// only as hex SHA-256 hashes, except the PKCE verifier, which must be sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthFlow {
    /// Hash of the `state` parameter; the key of the flow.
    pub state_hash: String,
    /// The provider the flow was started for (a callback on another provider is refused).
    pub provider: String,
    /// PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// OIDC nonce expected in the ID token.
    pub nonce: Option<String>,
    /// The allowed application URL to return to.
    pub redirect_uri: String,
    /// Hash of the browser-binding cookie.
    pub browser_hash: String,
    /// Set when a signed-in user links an identity rather than signs in.
    pub link_user_id: Option<Uuid>,
    /// Start of the flow.
    pub created_at: DateTime<Utc>,
    /// After this the callback is refused.
    pub expires_at: DateTime<Utc>,
}

/// A one-time login code, exchanged once for a token pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoginCode {
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// The user it signs in.
    pub user_id: Uuid,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// End of its life.
    pub expires_at: DateTime<Utc>,
}

/// Why an unlink was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkOutcome {
    /// The link is gone.
    Unlinked,
    /// It is the user's last way to sign in (no password, no other link); nothing changed.
    LastSignInMethod,
}

/// Storage of linked identities, flows and login codes.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OAuthStore: Send + Sync {
    /// Records a flow (and forgets flows that expired before `flow.created_at`).
    ///
    /// Errors: `Conflict::Duplicate("oauth_flow")` on a duplicate state hash.
    async fn save_flow(&self, flow: OAuthFlow) -> PortResult<()>;

    /// Removes and returns the flow with this state hash if it has not expired at `now`. Of
    /// concurrent calls with one state at most one gets the flow.
    async fn take_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<OAuthFlow>>;

    /// The link of this provider identity, if any.
    async fn find_account(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> PortResult<Option<OAuthAccount>>;

    /// Creates a user and its first link, with the audit row, in one transaction.
    ///
    /// Errors: `Conflict::Email` / `Conflict::Username` for a taken user key,
    /// `Conflict::IdentityLinked` when the identity is linked already; nothing is
    /// written then.
    async fn create_user_with_account(
        &self,
        user: NewUser,
        account: OAuthAccount,
        audit: NewAuditEntry,
    ) -> PortResult<User>;

    /// Links an identity to an existing user, with the audit row, in one transaction.
    ///
    /// Errors: `Conflict::IdentityLinked` when the identity is linked already;
    /// `NotFound` when the user does not exist.
    async fn link_account(&self, account: OAuthAccount, audit: NewAuditEntry) -> PortResult<()>;

    /// The user's links, oldest first.
    async fn list_accounts(&self, user_id: Uuid) -> PortResult<Vec<OAuthAccount>>;

    /// Removes one of the user's links, with the audit row, in one transaction, unless it is
    /// the user's last way to sign in (no password and no other link).
    ///
    /// Errors: `NotFound` when the user has no link with this id.
    async fn unlink_account(
        &self,
        user_id: Uuid,
        account_id: Uuid,
        audit: NewAuditEntry,
    ) -> PortResult<UnlinkOutcome>;

    /// Records a login code.
    async fn save_login_code(&self, code: NewLoginCode) -> PortResult<()>;

    /// Removes the code with this hash and returns its user, if it has not expired at
    /// `now`. Of concurrent calls with one code at most one gets the user.
    async fn take_login_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<Uuid>>;

    /// Deletes the flows and login codes that expired before `now` (saves also sweep their
    /// own table; this is the periodic sweep for quiet times). Answers how many went.
    async fn purge_expired(&self, now: DateTime<Utc>) -> PortResult<u64>;
}

/// What the provider says about the person who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The provider's stable user id.
    pub subject: String,
    /// E-mail address, when the provider shares one.
    pub email: Option<String>,
    /// True only when the provider asserts that the address is verified.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// A login name to derive a username from (GitHub login, OIDC `preferred_username`).
    pub preferred_username: Option<String>,
}

/// The secrets of a new authorization request, made by the provider adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    /// Where to send the browser.
    pub url: String,
    /// The `state` in `url`.
    pub state: String,
    /// The PKCE verifier whose S256 challenge is in `url`.
    pub pkce_verifier: String,
    /// The OIDC nonce in `url` (None for plain OAuth 2.0).
    pub nonce: Option<String>,
}

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the code (used, expired, wrong verifier) or answered nonsense.
    #[error("the provider refused the authorization code: {0}")]
    Rejected(String),
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce).
    #[error("the provider's ID token is not acceptable: {0}")]
    InvalidIdToken(String),
    /// The provider could not be reached or failed; retry later.
    #[error("the provider is unavailable")]
    Unavailable(#[source] Cause),
}

/// One configured identity provider.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// Starts an authorization-code request with PKCE S256, a fresh `state` and, for OIDC, a
    /// nonce; the provider will return the browser to `callback_url`.
    async fn start(&self, callback_url: &str) -> Result<AuthorizationStart, ProviderError>;

    /// Exchanges `code` (with the PKCE verifier; redirects are not followed) and returns the
    /// verified identity. For OIDC the ID token's signature (provider JWKS), issuer,
    /// audience, expiry and `nonce` are checked.
    async fn identify(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: Option<String>,
        callback_url: &str,
    ) -> Result<ProviderIdentity, ProviderError>;
}
