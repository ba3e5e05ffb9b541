//! The ports of ainative: the async traits the core needs from the outside world.
//!
//! Every port is `Send + Sync`, held as `Arc<dyn Port>`, and reports failures as a
//! [`PortError`] that separates *not found*, *conflict*, *unavailable* (retryable) and *other*.
//!
//! Features: `mocks` adds mockall mocks of every port (`MockUserRepository`, …);
//! `testkit` adds the contract suites every implementation must pass.

pub mod account_tokens;
pub mod audit;
pub mod cache;
pub mod clock;
pub mod error;
pub mod health;
pub mod llm;
pub mod mail;
pub mod materials;
pub mod observe;
pub mod pool;
pub mod rate_limit;
pub mod revocation;
pub mod server_errors;
pub mod sessions;
pub mod shared_state;
pub mod tutoring;
pub mod users;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use account_tokens::{AccountToken, AccountTokenRepository, NewAccountToken, TokenPurpose};
pub use audit::AuditLog;
pub use cache::ResponseCache;
pub use clock::{Clock, SystemClock};
pub use error::{error_chain, Cause, Conflict, PortError, PortResult};
pub use health::{DatabaseHealth, MigrationState, PoolStats, SchemaManager};
pub use llm::{
    ChatMessage, ChatRole, Guidance, LlmError, LlmProvider, LlmRequest, LlmResponse, LlmStream,
    StreamEvent, UpstreamKind,
};
pub use mail::{MailError, MailOutbox, Mailer, OutgoingMail};
pub use materials::{
    Corpus, CorpusChunk, Embedder, MaterialCorpus, MaterialRetriever, RetrievalBudget,
    RetrievedPassage,
};
pub use observe::QueryObserver;
pub use rate_limit::{LoginThrottle, RateDecision, RateLimiter, ThrottleDecision};
pub use revocation::RevocationList;
pub use server_errors::{ServerError, ServerErrorLog, SERVER_ERRORS_KEPT};
pub use sessions::{
    AuthSession, AuthSessionRepository, NewRefreshToken, RevokedSession, RotateOutcome,
};
pub use shared_state::{SharedStateHealth, SharedStateStatus};
pub use tutoring::{
    ActivityFilter, ActivityRepository, ActivityRows, ActivityVisibility, InteractionRecord,
    InteractionRepository, RiskFilter, RiskRepository, RiskScope, SessionFilter, SessionVisibility,
    StudySessionRepository, TraceSelection,
};
pub use users::{NewUser, UserFilter, UserRepository};

#[cfg(feature = "mocks")]
pub use {
    account_tokens::MockAccountTokenRepository,
    audit::MockAuditLog,
    cache::MockResponseCache,
    clock::MockClock,
    health::{MockDatabaseHealth, MockSchemaManager},
    llm::MockLlmProvider,
    mail::{MockMailOutbox, MockMailer},
    materials::{MockEmbedder, MockMaterialCorpus, MockMaterialRetriever},
    rate_limit::{MockLoginThrottle, MockRateLimiter},
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
