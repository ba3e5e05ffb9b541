//! Users, their credentials and what they may do.

mod email;
mod names;
mod password;
mod role;
mod user;

pub use email::Email;
pub use names::{FullName, StudentId, Username};
pub use password::{PasswordPolicy, PasswordRuleViolation};
pub use role::{Role, RoleSet, Tier};
pub use user::{User, UserPatch};
