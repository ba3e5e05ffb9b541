//! What a credential may do, independent of who holds it (SPEC §10.3).

use crate::tutoring::wire_enum;
use crate::{Role, RoleSet};

/// One permission a credential can carry. A JWT caller holds every scope its roles allow
/// ([`Scopes::for_roles`]); an API key holds the subset it was created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read activities.
    ActivitiesRead,
    /// Create, edit, publish and archive activities; resolve risks on them.
    ActivitiesWrite,
    /// Read sessions and what they hold (interactions, traces, risks, evaluation).
    SessionsRead,
    /// Start and end sessions, send interactions.
    SessionsWrite,
    /// List risks across sessions.
    RisksRead,
    /// Administration.
    Admin,
}

wire_enum!(Scope {
    ActivitiesRead => "activities:read",
    ActivitiesWrite => "activities:write",
    SessionsRead => "sessions:read",
    SessionsWrite => "sessions:write",
    RisksRead => "risks:read",
    Admin => "admin",
});

impl Scope {
    const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The scopes `role` allows.
    pub fn of_role(role: Role) -> Scopes {
        let scopes: &[Scope] = match role {
            Role::Student => &[
                Scope::ActivitiesRead,
                Scope::SessionsRead,
                Scope::SessionsWrite,
            ],
            Role::Instructor => &[
                Scope::ActivitiesRead,
                Scope::ActivitiesWrite,
                Scope::SessionsRead,
                Scope::SessionsWrite,
                Scope::RisksRead,
            ],
            Role::Admin => Scope::ALL,
        };
        scopes.iter().copied().collect()
    }
}

/// A set of [`Scope`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope at all.
    pub const fn none() -> Self {
        Self(0)
    }

    /// Every scope.
    pub fn all() -> Self {
        Scope::ALL.iter().copied().collect()
    }

    /// Every scope the roles allow: what a JWT caller holds.
    pub fn for_roles(roles: &RoleSet) -> Self {
        roles
            .as_slice()
            .iter()
            .fold(Self::none(), |acc, role| acc.union(Scope::of_role(*role)))
    }

    /// True when the set holds `scope`.
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// What both sets hold (an API key's scopes within its owner's rights).
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The scopes held, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(*scope));
        }
        assert_eq!(Scope::ActivitiesWrite.to_string(), "activities:write");
        assert!("activities:delete".parse::<Scope>().is_err());
    }

    #[test]
    fn roles_grant_nested_scopes() {
        let student = Scopes::for_roles(&RoleSet::student());
        assert!(student.contains(Scope::SessionsWrite));
        assert!(!student.contains(Scope::ActivitiesWrite));
        assert!(!student.contains(Scope::RisksRead));
        let instructor = Scopes::for_roles(&RoleSet::new([Role::Instructor]).unwrap());
        assert!(
            instructor.contains(Scope::ActivitiesWrite) && instructor.contains(Scope::RisksRead)
        );
        assert!(!instructor.contains(Scope::Admin));
        assert_eq!(student.intersection(instructor), student);
        let admin = Scopes::for_roles(&RoleSet::new([Role::Admin]).unwrap());
        assert_eq!(admin, Scopes::all());
        assert_eq!(admin.iter().count(), Scope::ALL.len());
    }
}
