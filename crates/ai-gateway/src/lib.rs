//! Tutoring use cases of ainative and the per-request AI gateway (SPEC §6).
//!
//! - [`tutoring`]: activities, sessions, traces and risks with their RBAC rules.
//! - [`gateway`]: the [`GatewayFactory`] (one per process) and the [`AIGateway`] it builds per
//!   request, running the pipeline of [`pipeline`] for every interaction.
//! - [`llm`]: language-model providers, the response cache and request coalescing.

pub mod cognitive_path;
pub mod credentials;
pub mod evaluator;
pub mod gateway;
pub mod llm;
pub mod pipeline;
pub mod tutoring;

pub use gateway::{AIGateway, GatewayFactory};
