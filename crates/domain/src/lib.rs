//! The domain of ainative: entities, value objects and the pure rules that govern them.
//!
//! Nothing here performs I/O. Values are *parsed*, not validated after the fact: once an
//! [`Email`] or a [`Username`] exists, it is valid.

pub mod audit;
pub mod context;
pub mod credentials;
pub mod error;
pub mod identity;
pub mod materials;
pub mod pagination;
pub mod tutoring;

pub use audit::{AuditAction, AuditEntry, NewAuditEntry};
pub use context::{AccessDenied, Credential, RequestContext, Scope, Scopes, TraceParent};
pub use credentials::{key_hint, CredentialStatus, LlmCredential, OPENAI_COMPATIBLE};
pub use error::{contains_nul, FieldError, ValidationErrors, NUL_MESSAGE};
pub use identity::{
    Email, FullName, PasswordPolicy, PasswordRuleViolation, Role, RoleSet, StudentId, Tier, User,
    UserPatch, Username,
};
pub use materials::*;
pub use pagination::{Page, Paginated};
pub use tutoring::*;
