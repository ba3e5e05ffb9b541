//! Tutoring use cases.
