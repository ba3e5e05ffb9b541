//! Middleware, outermost first: request context, CORS, authentication, rate limiting, the
//! verified-address gate.

pub mod auth;
pub mod client_ip;
pub mod rate_limit;
pub mod request_id;
pub mod verified;
