use std::net::IpAddr;
use std::sync::Arc;

use ainative_domain::{
    AuditAction, Email, FullName, NewAuditEntry, RequestContext, Role, RoleSet, StudentId, Tier,
    TraceParent, User, Username, ValidationErrors,
};
use ainative_ports::{
    AuthSession, AuthSessionRepository, Clock, LoginThrottle, NewRefreshToken, NewUser,
    RevocationList, RotateOutcome, ThrottleDecision, UserRepository,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    AuthConfig, AuthError, PasswordHasher, TokenCodec, TokenKind, TokenRejection, UserCache,
};

/// The ports the identity core needs.
#[derive(Clone)]
pub struct AuthDeps {
    /// User storage.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh tokens (durable revocation).
    pub sessions: Arc<dyn AuthSessionRepository>,
    /// Fast revocation check.
    pub revocations: Arc<dyn RevocationList>,
    /// Failed-login throttling.
    pub throttle: Arc<dyn LoginThrottle>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Recently read users (shared with [`crate::AdminService`] for invalidation).
    pub user_cache: UserCache,
}

/// Registration input, as received.
#[derive(Debug, Clone)]
pub struct RegisterInput {
    /// E-mail address.
    pub email: String,
    /// Username.
    pub username: String,
    /// Plain password.
    pub password: String,
    /// Display name.
    pub full_name: String,
    /// Optional student number.
    pub student_id: Option<String>,
}

/// The token pair returned by login, registration, refresh and password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Token for `/auth/refresh`.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A user with a fresh token pair.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The user, as stored after the login.
    pub user: User,
    /// New tokens of a new session.
    pub tokens: TokenPair,
}

/// The identity use cases.
pub struct AuthService {
    deps: AuthDeps,
    config: AuthConfig,
    codec: TokenCodec,
}

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn to_chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl AuthService {
    /// Builds the service.
    pub fn new(deps: AuthDeps, config: AuthConfig) -> Self {
        let codec = TokenCodec::new(&config.jwt);
        Self {
            deps,
            config,
            codec,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The ports (for the account flows built on this service).
    pub(crate) fn deps(&self) -> &AuthDeps {
        &self.deps
    }

    /// The token codec (for tests and tooling that must mint tokens).
    pub fn codec(&self) -> &TokenCodec {
        &self.codec
    }

    /// Registers a student and starts a session.
    pub async fn register(&self, input: RegisterInput) -> Result<LoginOutcome, AuthError> {
        let now = self.deps.clock.now();
        let user = self
            .new_user(input, RoleSet::student(), Tier::Free, false, now)
            .await?;
        let user = self.deps.users.create(user, None).await?;
        let tokens = self.start_session(&user, now).await?;
        Ok(LoginOutcome { user, tokens })
    }

    /// Creates an administrator (the `create-admin` command). Audited with no actor.
    pub async fn create_admin(&self, input: RegisterInput) -> Result<User, AuthError> {
        let now = self.deps.clock.now();
        let roles = RoleSet::new([Role::Student, Role::Instructor, Role::Admin])
            .map_err(|e| AuthError::Internal(e.into()))?;
        let user = self.new_user(input, roles, Tier::Admin, true, now).await?;
        let audit = NewAuditEntry {
            actor_id: None,
            action: AuditAction::AdminCreated,
            target_type: "user".into(),
            target_id: user.id,
            details: serde_json::json!({"email": user.email.as_str(), "username": user.username.as_str()}),
            at: now,
        };
        Ok(self.deps.users.create(user, Some(audit)).await?)
    }

    async fn new_user(
        &self,
        input: RegisterInput,
        roles: RoleSet,
        tier: Tier,
        is_verified: bool,
        now: DateTime<Utc>,
    ) -> Result<NewUser, AuthError> {
        let mut errors = ValidationErrors::new();
        let email = errors.collect("email", Email::parse(&input.email));
        let username = errors.collect("username", Username::parse(&input.username));
        let full_name = errors.collect("full_name", FullName::parse(&input.full_name));
        let student_id = match input.student_id.as_deref() {
            Some(raw) => errors
                .collect("student_id", StudentId::parse(raw))
                .map(Some),
            None => Some(None),
        };
        let policy_result = self.config.password_policy.check(
            &input.password,
            email.as_ref().map_or(input.email.as_str(), |e| e.as_str()),
            &input.username,
        );
        errors.collect("password", policy_result);
        errors.into_result()?;
        let (Some(email), Some(username), Some(full_name), Some(student_id)) =
            (email, username, full_name, student_id)
        else {
            return Err(AuthError::Internal("validation bookkeeping".into()));
        };
        let password_hash = self.deps.hasher.hash(&input.password).await?;
        Ok(NewUser {
            id: Uuid::new_v4(),
            email,
            username,
            full_name: full_name.as_str().to_owned(),
            student_id: student_id.map(|s| s.as_str().to_owned()),
            roles,
            tier,
            is_active: true,
            is_verified,
            password_hash,
            created_at: now,
        })
    }

    /// Logs in with an e-mail address or username. Failures are uniform whether or not the
    /// account exists, and throttled per account and per client IP.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<LoginOutcome, AuthError> {
        let login = login.trim();
        // Look the account up first so that its e-mail and username share one budget. No
        // e-mail address or username holds NUL: such a login names no account.
        let found = if ainative_domain::contains_nul(login) {
            None
        } else {
            self.deps.users.find_by_login(login).await?
        };
        let account_key = match &found {
            Some(user) => format!("login:account:{}", user.id),
            None => format!("login:account:{}", login.to_lowercase()),
        };
        let ip_key = client_ip.map(|ip| format!("login:ip:{ip}"));
        let flight_key = client_ip.map(|ip| format!("login:ip-in-flight:{ip}"));
        let limit = self.config.login_attempts_limit;
        let window = AuthConfig::LOGIN_WINDOW;
        let throttle = &self.deps.throttle;
        // The IP's budget counts failures only, once known: correct logins from one address
        // (a classroom behind NAT) never use it up. Checked first, counting nothing.
        if let Some(ip_key) = &ip_key {
            refuse_if_throttled(
                throttle
                    .check(std::slice::from_ref(ip_key), limit, window)
                    .await?,
            )?;
        }
        // The account's budget counts every attempt atomically, taken back on success: no
        // parallel burst can try more than `limit` passwords on one account.
        refuse_if_throttled(
            throttle
                .attempt(std::slice::from_ref(&account_key), limit, window)
                .await?,
        )?;
        // Bounds what a parallel burst from one address can try before its failures count.
        if let Some(flight_key) = &flight_key {
            let slot = throttle
                .attempt(
                    std::slice::from_ref(flight_key),
                    AuthConfig::LOGIN_IP_IN_FLIGHT,
                    AuthConfig::LOGIN_IN_FLIGHT_WINDOW,
                )
                .await?;
            if let ThrottleDecision::Throttled { retry_after_secs } = slot {
                throttle.release(&account_key).await?;
                return Err(AuthError::Throttled { retry_after_secs });
            }
        }

        let checked = self.check_credentials(found, password).await;
        if let Some(flight_key) = &flight_key {
            throttle.release(flight_key).await?;
        }
        let user = match checked {
            Ok(user) => user,
            Err(err) => {
                if let (AuthError::InvalidCredentials, Some(ip_key)) = (&err, &ip_key) {
                    throttle
                        .attempt(std::slice::from_ref(ip_key), limit, window)
                        .await?;
                }
                return Err(err);
            }
        };
        if !user.is_active {
            return Err(AuthError::AccountInactive);
        }
        // Success is not a failed attempt: forget the account's count.
        throttle.reset(&account_key).await?;
        let now = self.deps.clock.now();
        self.deps.users.record_login(user.id, now).await?;
        self.deps.user_cache.invalidate(&user.id).await;
        let tokens = self.start_session(&user, now).await?;
        let user = User {
            last_login: Some(now),
            login_count: user.login_count + 1,
            ..user
        };
        Ok(LoginOutcome { user, tokens })
    }

    async fn check_credentials(
        &self,
        found: Option<User>,
        password: &str,
    ) -> Result<User, AuthError> {
        // No stored password is longer than bcrypt's 72 bytes; refuse before hashing.
        if password.is_empty() || password.len() > ainative_domain::PasswordPolicy::MAX_BYTES {
            self.deps.hasher.verify_dummy("x").await?;
            return Err(AuthError::InvalidCredentials);
        }
        // An account made through social login has no password: the same answer, the same
        // effort, as for an unknown account.
        let Some(user) = found.filter(User::has_password) else {
            self.deps.hasher.verify_dummy(password).await?;
            return Err(AuthError::InvalidCredentials);
        };
        if self
            .deps
            .hasher
            .verify(password, &user.password_hash)
            .await?
        {
            Ok(user)
        } else {
            Err(AuthError::InvalidCredentials)
        }
    }

    /// Signs in a user that another mechanism (a social-login code) has identified: the
    /// same checks and bookkeeping as a password login, without the password.
    pub async fn sign_in_user(&self, user_id: Uuid) -> Result<LoginOutcome, AuthError> {
        let Some(user) = self.deps.users.find_by_id(user_id).await? else {
            return Err(AuthError::InvalidCredentials);
        };
        if !user.is_active {
            return Err(AuthError::AccountInactive);
        }
        let now = self.deps.clock.now();
        self.deps.users.record_login(user.id, now).await?;
        self.deps.user_cache.invalidate(&user.id).await;
        let tokens = self.start_session(&user, now).await?;
        let user = User {
            last_login: Some(now),
            login_count: user.login_count + 1,
            ..user
        };
        Ok(LoginOutcome { user, tokens })
    }

    pub(crate) async fn start_session(
        &self,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<TokenPair, AuthError> {
        let session = AuthSession {
            id: Uuid::new_v4(),
            user_id: user.id,
            created_at: now,
            expires_at: now + to_chrono(self.config.jwt.refresh_ttl),
            revoked_at: None,
        };
        let refresh = self.codec.claims(
            TokenKind::Refresh,
            user.id,
            user.roles.as_slice(),
            user.tier,
            session.id,
            now,
            session.expires_at,
        );
        let refresh_token = self.codec.encode(&refresh)?;
        let first = NewRefreshToken {
            jti: refresh.jti,
            token_hash: sha256_hex(&refresh_token),
            issued_at: now,
        };
        let access_token = self.access_token(user, &session, now)?;
        self.deps.sessions.start(session, first).await?;
        Ok(self.pair(access_token, refresh_token))
    }

    fn access_token(
        &self,
        user: &User,
        session: &AuthSession,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let expires_at = (now + to_chrono(self.config.jwt.access_ttl)).min(session.expires_at);
        let claims = self.codec.claims(
            TokenKind::Access,
            user.id,
            user.roles.as_slice(),
            user.tier,
            session.id,
            now,
            expires_at,
        );
        self.codec.encode(&claims)
    }

    fn pair(&self, access_token: String, refresh_token: String) -> TokenPair {
        TokenPair {
            access_token,
            refresh_token,
            token_type: "bearer",
            expires_in: self.config.jwt.access_ttl.as_secs(),
        }
    }

    /// Rotates a refresh token. A retired token presented again revokes its whole family,
    /// unless it comes back within the configured grace window.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let claims = self.codec.decode(refresh_token, TokenKind::Refresh)?;
        let now = self.deps.clock.now();
        let user = self.active_user(claims.sub).await?;
        let family_end = DateTime::from_timestamp(claims.exp, 0)
            .ok_or(AuthError::InvalidToken(TokenRejection::Malformed))?;
        let next = self.codec.claims(
            TokenKind::Refresh,
            user.id,
            user.roles.as_slice(),
            user.tier,
            claims.sid,
            now,
            family_end,
        );
        let next_token = self.codec.encode(&next)?;
        let record = NewRefreshToken {
            jti: next.jti,
            token_hash: sha256_hex(&next_token),
            issued_at: now,
        };
        let outcome = self
            .deps
            .sessions
            .rotate(claims.jti, &sha256_hex(refresh_token), record, now)
            .await?;
        match outcome {
            RotateOutcome::Rotated(session) => {
                let access = self.access_token(&user, &session, now)?;
                Ok(self.pair(access, next_token))
            }
            RotateOutcome::Reused {
                session,
                retired_at,
            } => {
                let grace = to_chrono(self.config.refresh_reuse_grace);
                if !self.config.refresh_reuse_grace.is_zero() && now - retired_at <= grace {
                    let access = self.access_token(&user, &session, now)?;
                    return Ok(self.pair(access, refresh_token.to_owned()));
                }
                tracing::warn!(session_id = %session.id, user_id = %user.id, "refresh token replayed; revoking its session");
                self.revoke_session(session.id, session.expires_at, now)
                    .await?;
                Err(AuthError::InvalidToken(TokenRejection::Replayed))
            }
            RotateOutcome::Revoked => Err(AuthError::InvalidToken(TokenRejection::Revoked)),
            RotateOutcome::Expired => Err(AuthError::InvalidToken(TokenRejection::Expired)),
            RotateOutcome::Unknown => Err(AuthError::InvalidToken(TokenRejection::Malformed)),
        }
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match self.deps.sessions.revoke(id, now).await {
            Ok(_) | Err(ainative_ports::PortError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.deps.revocations.revoke_session(id, until).await?;
        Ok(())
    }

    /// Verifies an access token and checks that its session is not revoked; the caller's
    /// context for the request `request_id` (which carried `trace`), holding every scope the
    /// token's roles allow. Touches no database: revocations are mirrored in the fast
    /// [`RevocationList`].
    pub async fn authenticate(
        &self,
        access_token: &str,
        request_id: &str,
        trace: Option<TraceParent>,
    ) -> Result<RequestContext, AuthError> {
        let claims = self.codec.decode(access_token, TokenKind::Access)?;
        if self.deps.revocations.is_session_revoked(claims.sid).await? {
            return Err(AuthError::InvalidToken(TokenRejection::Revoked));
        }
        let roles = RoleSet::new(claims.roles)
            .map_err(|_| AuthError::InvalidToken(TokenRejection::Malformed))?;
        Ok(RequestContext::for_access_token(
            claims.sub,
            roles,
            claims.tier,
            claims.sid,
            claims.jti,
            request_id,
            trace,
        ))
    }

    /// Ends the caller's session: its access tokens and refresh family stop working.
    pub async fn logout(&self, ctx: &RequestContext) -> Result<(), AuthError> {
        ctx.require_identity_management()?;
        let now = self.deps.clock.now();
        let until = now + to_chrono(self.config.jwt.refresh_ttl);
        self.revoke_session(ctx.session_id(), until, now).await
    }

    /// The caller's user record. An inactive or deleted user's token is no longer accepted.
    pub async fn current_user(&self, ctx: &RequestContext) -> Result<User, AuthError> {
        self.active_user(ctx.user_id).await
    }

    async fn active_user(&self, id: Uuid) -> Result<User, AuthError> {
        let user = match self.deps.user_cache.get(&id).await {
            Some(user) => Some(user),
            None => {
                let found = self.deps.users.find_by_id(id).await?;
                if let Some(user) = &found {
                    self.deps.user_cache.put(user.clone()).await;
                }
                found
            }
        };
        match user {
            Some(user) if user.is_active => Ok(user),
            _ => Err(AuthError::InvalidToken(TokenRejection::UserGone)),
        }
    }

    /// Changes the caller's password. Every earlier session of the user ends; the returned
    /// pair belongs to a new one.
    pub async fn change_password(
        &self,
        ctx: &RequestContext,
        current_password: &str,
        new_password: &str,
    ) -> Result<TokenPair, AuthError> {
        ctx.require_identity_management()?;
        // Fresh from the store: the password hash must not come from a cache.
        let user = match self.deps.users.find_by_id(ctx.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidToken(TokenRejection::UserGone)),
        };
        let account_key = format!("login:account:{}", user.id);
        let decision = self
            .deps
            .throttle
            .attempt(
                std::slice::from_ref(&account_key),
                self.config.login_attempts_limit,
                AuthConfig::LOGIN_WINDOW,
            )
            .await?;
        if let ThrottleDecision::Throttled { retry_after_secs } = decision {
            return Err(AuthError::Throttled { retry_after_secs });
        }
        let current_ok = current_password.len() <= ainative_domain::PasswordPolicy::MAX_BYTES
            && user.has_password()
            && self
                .deps
                .hasher
                .verify(current_password, &user.password_hash)
                .await?;
        if !current_ok {
            return Err(ValidationErrors::single("current_password", "is incorrect").into());
        }
        self.deps.throttle.reset(&account_key).await?;
        if current_password == new_password {
            return Err(ValidationErrors::single(
                "new_password",
                "must differ from the current password",
            )
            .into());
        }
        self.config
            .password_policy
            .check(new_password, user.email.as_str(), user.username.as_str())
            .map_err(|e| ValidationErrors::single("new_password", e.to_string()))?;
        let hash = self.deps.hasher.hash(new_password).await?;
        let now = self.deps.clock.now();
        let revoked = self.deps.users.change_password(user.id, &hash, now).await?;
        self.deps.user_cache.invalidate(&user.id).await;
        let until = now + to_chrono(self.config.jwt.refresh_ttl);
        for session_id in revoked {
            self.deps
                .revocations
                .revoke_session(session_id, until)
                .await?;
        }
        self.start_session(&user, now).await
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

/// `Throttled` as the error, `Allowed` as `Ok`.
fn refuse_if_throttled(decision: ThrottleDecision) -> Result<(), AuthError> {
    match decision {
        ThrottleDecision::Allowed => Ok(()),
        ThrottleDecision::Throttled { retry_after_secs } => {
            Err(AuthError::Throttled { retry_after_secs })
        }
    }
}
