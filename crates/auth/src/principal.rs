use ainative_domain::{Role, RoleSet, Tier};
use uuid::Uuid;

use crate::AuthError;

/// The authenticated caller of one request, taken from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: Uuid,
    /// Session (refresh family) the token belongs to.
    pub session_id: Uuid,
    /// Id of the access token.
    pub token_id: Uuid,
    /// Roles carried by the token.
    pub roles: RoleSet,
    /// Tier carried by the token.
    pub tier: Tier,
}

impl Principal {
    /// True when the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Fails with `Forbidden` unless the caller holds `role`.
    pub fn require_role(&self, role: Role) -> Result<(), AuthError> {
        self.require_any_role(&[role])
    }

    /// Fails with `Forbidden` unless the caller holds one of `roles`.
    pub fn require_any_role(&self, roles: &[Role]) -> Result<(), AuthError> {
        if self.roles.contains_any(roles) {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards() {
        let p = Principal {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
            token_id: Uuid::new_v4(),
            roles: RoleSet::new([Role::Instructor]).unwrap(),
            tier: Tier::Free,
        };
        assert!(p.require_role(Role::Instructor).is_ok());
        assert!(matches!(
            p.require_role(Role::Admin),
            Err(AuthError::Forbidden)
        ));
        assert!(p.require_any_role(&[Role::Admin, Role::Instructor]).is_ok());
        assert!(p.require_any_role(&[]).is_err());
    }
}
