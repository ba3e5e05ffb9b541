use std::fmt;
use std::str::FromStr;

/// What a user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Studies activities.
    Student,
    /// Creates activities and reads traces of their sessions.
    Instructor,
    /// Manages users and sees everything.
    Admin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 3] = [Role::Student, Role::Instructor, Role::Admin];

    /// The wire and storage name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Instructor => "instructor",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "student" => Ok(Self::Student),
            "instructor" => Ok(Self::Instructor),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown role '{other}' (expected student, instructor or admin)"
            )),
        }
    }
}

/// A non-empty, duplicate-free, ordered set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    /// Builds a set; fails when empty.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, &'static str> {
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err("must contain at least one role");
        }
        Ok(Self(roles))
    }

    /// The roles of a new user.
    pub fn student() -> Self {
        Self(vec![Role::Student])
    }

    /// Parses stored role names.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let roles = names
            .iter()
            .map(|n| n.as_ref().parse::<Role>())
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles).map_err(str::to_owned)
    }

    /// True when the set holds `role`.
    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// True when the set holds any of `roles`.
    pub fn contains_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.contains(*r))
    }

    /// The roles, sorted.
    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }

    /// Storage names.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.as_str().to_owned()).collect()
    }
}

/// The service tier of a user; sets the rate limit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Default tier.
    #[default]
    Free,
    /// Paid tier with higher limits.
    Premium,
    /// Operators; unlimited unless configured.
    Admin,
}

impl Tier {
    /// The wire and storage name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Premium => "premium",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Self::Free),
            "premium" => Ok(Self::Premium),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown tier '{other}' (expected free, premium or admin)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_set_sorts_and_dedups() {
        let set = RoleSet::new([Role::Admin, Role::Student, Role::Admin]).unwrap();
        assert_eq!(set.as_slice(), &[Role::Student, Role::Admin]);
        assert!(RoleSet::new([]).is_err());
        assert!(RoleSet::parse(&["student", "root"]).is_err());
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        for tier in [Tier::Free, Tier::Premium, Tier::Admin] {
            assert_eq!(tier.as_str().parse::<Tier>().unwrap(), tier);
        }
    }
}
