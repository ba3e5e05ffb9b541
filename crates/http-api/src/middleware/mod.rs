//! Middleware, outermost first: request context, CORS, authentication, rate limiting.

pub mod auth;
pub mod client_ip;
pub mod rate_limit;
pub mod request_id;
