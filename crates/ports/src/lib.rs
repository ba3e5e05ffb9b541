//! The ports of ainative: the async traits the core needs from the outside world.
//!
//! Every port is `Send + Sync`, held as `Arc<dyn Port>`, and reports failures as a
//! [`PortError`] that separates *not found*, *conflict*, *unavailable* (retryable) and *other*.
//!
//! Features: `mocks` adds mockall mocks of every port (`MockUserRepository`, …);
//! `testkit` adds the contract suites every implementation must pass.

pub mod account_tokens;
pub mod api_keys;
pub mod audit;
pub mod cache;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod health;
pub mod jobs;
pub mod llm;
pub mod mail;
pub mod material_store;
pub mod materials;
pub mod oauth;
pub mod observe;
pub mod pool;
pub mod rate_limit;
pub mod reports;
pub mod revocation;
pub mod server_errors;
pub mod sessions;
pub mod shared_state;
pub mod tutoring;
pub mod users;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use account_tokens::{AccountToken, AccountTokenRepository, NewAccountToken, TokenPurpose};
pub use api_keys::{ApiKey, ApiKeyRepository, NewApiKey};
pub use audit::AuditLog;
pub use cache::{Claim, FlightLock, LocalFlightLock, ResponseCache};
pub use clock::{Clock, SystemClock};
pub use credentials::{
    AdminCredentialChange, CredentialEdit, CredentialFilter, LlmCredentialRepository,
    NewCredential, SealedSecret, StoredCredential, Verification,
};
pub use error::{error_chain, Cause, Conflict, PortError, PortResult};
pub use health::{DatabaseHealth, MigrationState, PoolStats, SchemaManager};
pub use jobs::{
    Backoff, ClaimedJob, Enqueued, FailOutcome, Job, JobFilter, JobQueue, JobState, JobStats,
    Lease, NewJob, DEFAULT_MAX_ATTEMPTS,
};
pub use llm::{
    ChatMessage, ChatRole, GroundingPassage, Guidance, LlmError, LlmProvider, LlmRequest,
    LlmResponse, LlmStream, StreamEvent, UpstreamKind,
};
pub use mail::{MailError, Mailer, OutgoingMail};
pub use material_store::{MaterialProgress, MaterialStore, StageOutput, MATERIAL_PROCESS_JOB};
pub use materials::{
    Corpus, CorpusChunk, Embedder, MaterialCorpus, MaterialRetriever, RetrievalBudget,
    RetrievedPassage,
};
pub use oauth::{
    AuthorizationStart, IdentityProvider, NewLoginCode, OAuthAccount, OAuthFlow, OAuthStore,
    ProviderError, ProviderIdentity, UnlinkOutcome,
};
pub use observe::QueryObserver;
pub use rate_limit::{LoginThrottle, RateDecision, RateLimiter, ThrottleDecision};
pub use reports::{ReportRepository, REPORT_BUILD_JOB};
pub use revocation::RevocationList;
pub use server_errors::{ServerError, ServerErrorLog, SERVER_ERRORS_KEPT};
pub use sessions::{
    AuthSession, AuthSessionRepository, NewRefreshToken, RevokedSession, RotateOutcome,
};
pub use shared_state::{SharedStateHealth, SharedStateStatus};
pub use tutoring::{
    ActivityFilter, ActivityRepository, ActivityRows, ActivityVisibility, InteractionRecord,
    InteractionRepository, Past, RiskFilter, RiskRepository, RiskScope, RuleState, SessionFilter,
    SessionVisibility, StudySessionRepository, TraceSelection,
};
pub use users::{NewUser, UserFilter, UserRepository};

#[cfg(feature = "mocks")]
pub use {
    account_tokens::MockAccountTokenRepository,
    api_keys::MockApiKeyRepository,
    audit::MockAuditLog,
    cache::{MockFlightLock, MockResponseCache},
    clock::MockClock,
    credentials::MockLlmCredentialRepository,
    health::{MockDatabaseHealth, MockSchemaManager},
    jobs::MockJobQueue,
    llm::MockLlmProvider,
    mail::MockMailer,
    material_store::{MockMaterialProgress, MockMaterialStore},
    materials::{MockEmbedder, MockMaterialCorpus, MockMaterialRetriever},
    oauth::{MockIdentityProvider, MockOAuthStore},
    rate_limit::{MockLoginThrottle, MockRateLimiter},
    reports::MockReportRepository,
    revocation::MockRevocationList,
    server_errors::MockServerErrorLog,
    sessions::MockAuthSessionRepository,
    shared_state::MockSharedStateHealth,
    tutoring::{
        MockActivityRepository, MockInteractionRepository, MockRiskRepository,
        MockStudySessionRepository,
    },
    users::MockUserRepository,
};
