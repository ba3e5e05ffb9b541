//! Pool settings are shared by the persistence adapters; see [`ainative_ports::pool`].

pub use ainative_ports::pool::{non_zero, redact_url, PoolSettings, PRE_PING_AFTER_IDLE};
