//! The Rust types a setting can be read as, from its validated [`Value`].

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

use super::values::Value;
use super::{AppEnv, LogFormat};

/// A Rust type a setting can be read as.
pub trait SettingType: Sized {
    /// Converts a validated value (`None` = unset).
    fn from_value(value: Option<&Value>) -> Option<Self>;
}

impl<T: SettingType> SettingType for Option<T> {
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value {
            None => Some(None),
            Some(_) => T::from_value(value).map(Some),
        }
    }
}

impl<T: SettingType> SettingType for Vec<T> {
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value {
            Some(Value::List(items)) => items.iter().map(|v| T::from_value(Some(v))).collect(),
            _ => None,
        }
    }
}

macro_rules! setting_type {
    ($ty:ty, $pattern:pat => $out:expr) => {
        impl SettingType for $ty {
            fn from_value(value: Option<&Value>) -> Option<Self> {
                match value {
                    Some($pattern) => $out,
                    _ => None,
                }
            }
        }
    };
}

setting_type!(String, Value::Text(text) => Some(text.clone()));
setting_type!(SecretString, Value::Text(text) => Some(SecretString::from(text.clone())));
setting_type!(bool, Value::Bool(b) => Some(*b));
setting_type!(u16, Value::Int(n) => u16::try_from(*n).ok());
setting_type!(u32, Value::Int(n) => u32::try_from(*n).ok());
setting_type!(u64, Value::Int(n) => u64::try_from(*n).ok());
setting_type!(usize, Value::Int(n) => usize::try_from(*n).ok());
setting_type!(Duration, Value::Duration(d) => Some(*d));
setting_type!(SocketAddr, Value::Addr(addr) => Some(*addr));
setting_type!(IpNet, Value::Cidr(net) => Some(*net));
setting_type!(AppEnv, Value::Text(text) => AppEnv::from_name(text));
setting_type!(LogFormat, Value::Text(text) => LogFormat::from_name(text));
