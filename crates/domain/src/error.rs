//! Validation errors that name the field and the rule that failed.

use std::fmt;

/// The message of a field that contains the NUL character.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000)";

/// True when `text` holds U+0000, which no text value accepts: PostgreSQL cannot store it,
/// and C libraries read it as the end of the string.
pub fn contains_nul(text: &str) -> bool {
    text.contains('\0')
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The JSON name of the field.
    pub field: String,
    /// What rule failed, in words a client can show.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every field that failed validation in one input; never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        write!(f, "validation failed: {}", parts.join("; "))
    }
}

impl ValidationErrors {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single-field error.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    /// Adds an error.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of a parse result and returns its value, if any.
    pub fn collect<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(field, err.to_string());
                None
            }
        }
    }

    /// `Ok(())` when nothing failed, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// True when no field failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
