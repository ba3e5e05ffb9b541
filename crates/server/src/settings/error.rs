//! Configuration errors: one per problem, several reported together.

use std::fmt;

/// A configuration error naming the variable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A variable has a value of the wrong shape.
    #[error("{var}: expected {expected}, {}", got_text(.got))]
    Invalid {
        /// Variable name.
        var: String,
        /// What is expected.
        expected: String,
        /// The offending value; `None` for a secret (never echoed). URL passwords masked.
        got: Option<String>,
    },
    /// The combination is refused (production safety rules, required companions).
    #[error("{var}: {reason}")]
    Refused {
        /// Variable name.
        var: String,
        /// Why.
        reason: String,
    },
    /// The configuration sources could not be read.
    #[error("configuration could not be read: {0}")]
    Source(String),
    /// More than one problem: each is listed on its own line.
    #[error("{} configuration problems:{}", .0.len(), Listing(.0))]
    Several(Vec<SettingsError>),
}

impl SettingsError {
    /// Every single problem (a [`SettingsError::Several`] flattened).
    pub fn problems(&self) -> Vec<&SettingsError> {
        match self {
            Self::Several(all) => all.iter().flat_map(Self::problems).collect(),
            single => vec![single],
        }
    }

    /// The variable a problem names, if any.
    pub fn var(&self) -> Option<&str> {
        match self {
            Self::Invalid { var, .. } | Self::Refused { var, .. } => Some(var),
            Self::Source(_) | Self::Several(_) => None,
        }
    }

    /// One error from a list: the problem itself when alone, else [`SettingsError::Several`].
    pub(crate) fn from_problems(mut problems: Vec<SettingsError>) -> Option<Self> {
        match problems.len() {
            0 => None,
            1 => problems.pop(),
            _ => Some(Self::Several(problems)),
        }
    }
}

fn got_text(got: &Option<String>) -> String {
    match got {
        Some(value) => format!("got {value:?}"),
        None => "got a value that is not shown (secret)".into(),
    }
}

struct Listing<'a>(&'a [SettingsError]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}
