//! Raw text per variable (after layering) → validated, typed values. Every variable of the
//! table is checked and every problem collected, so one run reports them all.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::error::SettingsError;
use super::mask_url;
use super::table::{Fallback, Kind, Name, Spec, Var};
pub use super::types::SettingType;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default (or unset).
    Default,
    /// `config/<APP_ENV>.toml`.
    File(String),
    /// The environment (or `.env`).
    Environment,
    /// Generated at start (the development JWT secret), kept in this file.
    Generated(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => f.write_str(path),
            Self::Environment => f.write_str("environment"),
            Self::Generated(path) => write!(f, "generated, kept in {path}"),
        }
    }
}

/// Text of each variable after layering (upper-case names), with its origin.
#[derive(Debug, Default)]
pub struct Raw {
    entries: BTreeMap<String, (String, Origin)>,
}

impl Raw {
    /// Records a value.
    pub fn insert(&mut self, var: String, text: String, origin: Origin) {
        self.entries.insert(var, (text, origin));
    }

    /// The trimmed text of `var`; empty counts as unset.
    pub fn get(&self, var: &str) -> Option<(&str, &Origin)> {
        self.entries
            .get(var)
            .map(|(text, origin)| (text.trim(), origin))
            .filter(|(text, _)| !text.is_empty())
    }

    /// Every variable name present.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, enum words and URLs.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A duration.
    Duration(Duration),
    /// A socket address.
    Addr(SocketAddr),
    /// A CIDR block.
    Cidr(IpNet),
    /// A list.
    List(Vec<Value>),
}

impl Value {
    /// Human form for `check-config` (URL passwords masked; secrets are masked by the caller).
    fn show(&self, kind: &Kind) -> String {
        match (self, kind) {
            (Self::Text(url), Kind::Url(_)) => mask_url(url),
            (Self::Text(text), _) => text.clone(),
            (Self::Bool(b), _) => b.to_string(),
            (Self::Int(n), _) => n.to_string(),
            (Self::Duration(d), Kind::Duration { unit, .. }) => {
                (d.as_millis() / u128::from(unit.millis())).to_string()
            }
            (Self::Duration(d), _) => format!("{d:?}"),
            (Self::Addr(addr), _) => addr.to_string(),
            (Self::Cidr(net), _) => net.to_string(),
            (Self::List(items), Kind::List(inner)) => items
                .iter()
                .map(|item| item.show(inner))
                .collect::<Vec<_>>()
                .join(","),
            (Self::List(items), _) => format!("{items:?}"),
        }
    }
}

/// What `kind` expects, for messages and docs.
pub fn expected(kind: &Kind) -> String {
    match kind {
        Kind::Text => "text".into(),
        Kind::Custom { expected, .. } => (*expected).into(),
        Kind::Bool => "a boolean (true/false, 1/0, yes/no, on/off)".into(),
        Kind::Int { min, max } if *max >= super::table::U32_MAX => {
            format!("an integer >= {min}")
        }
        Kind::Int { min, max } => format!("an integer {min}..={max}"),
        Kind::Duration { unit, min, max } => format!("{} {min}..={max}", unit.noun()),
        Kind::Enum(words) => format!("one of {}", words.join(", ")),
        Kind::Url(prefixes) => format!("a URL starting with {}", alternatives(prefixes)),
        Kind::SocketAddr => "a socket address like 127.0.0.1:9100".into(),
        Kind::Cidr => "a CIDR block or an IP address (e.g. 10.0.0.0/8)".into(),
        Kind::List(inner) => format!("a comma-separated list, each {}", expected(inner)),
    }
}

/// `a, b or c`.
fn alternatives(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Parses one text as `kind`; `None` when it does not fit.
pub fn parse(kind: &Kind, text: &str) -> Option<Value> {
    let text = text.trim();
    match kind {
        Kind::Text => Some(Value::Text(text.to_owned())),
        Kind::Custom { check, .. } => check(text).then(|| Value::Text(text.to_owned())),
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(Value::Bool(true)),
            "false" | "0" | "no" | "off" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Int { min, max } => text
            .parse::<i64>()
            .ok()
            .filter(|n| (*min..=*max).contains(n))
            .map(Value::Int),
        Kind::Duration { unit, min, max } => text
            .parse::<u64>()
            .ok()
            .filter(|n| (*min..=*max).contains(n))
            .map(|n| Value::Duration(Duration::from_millis(n.saturating_mul(unit.millis())))),
        Kind::Enum(words) => words.contains(&text).then(|| Value::Text(text.to_owned())),
        Kind::Url(prefixes) => prefixes
            .iter()
            .any(|p| text.len() > p.len() && text.starts_with(p))
            .then(|| Value::Text(text.to_owned())),
        Kind::SocketAddr => text.parse().ok().map(Value::Addr),
        Kind::Cidr => text
            .parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .ok()
            .map(Value::Cidr),
        Kind::List(inner) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| parse(inner, item))
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
    }
}

/// The parsed value of one concrete variable.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The row it belongs to.
    pub spec: Spec,
    /// `None`: unset (optional) or invalid (then a problem was recorded).
    pub value: Option<Value>,
    /// Where it came from.
    pub origin: Origin,
    /// Did it fail to parse?
    pub invalid: bool,
}

impl Entry {
    /// The value as `check-config` shows it: secrets masked, URL passwords masked.
    pub fn shown(&self) -> String {
        match &self.value {
            None => "(unset)".into(),
            Some(Value::Text(text)) if self.spec.secret => {
                format!("****** ({} bytes)", text.len())
            }
            Some(_) if self.spec.secret => "******".into(),
            Some(value) => value.show(&self.spec.kind),
        }
    }
}

/// Every variable of the table, parsed.
#[derive(Debug, Default)]
pub struct Values {
    /// By concrete variable name, in table order (family members where their row is).
    entries: Vec<(String, Entry)>,
    /// Names read so far: a declared variable nobody reads is a wiring mistake (tested).
    read: RefCell<BTreeSet<String>>,
}

impl Values {
    /// Parses every row of `table` from `raw`, recording each invalid value in `problems`.
    /// `production` selects per-environment defaults.
    pub fn parse(
        table: &[Spec],
        raw: &Raw,
        production: bool,
        problems: &mut Vec<SettingsError>,
    ) -> Self {
        let mut entries = Vec::new();
        for spec in table {
            match spec.name {
                Name::Single(name) => {
                    entries.push((
                        name.to_owned(),
                        entry(spec, name, raw, production, problems),
                    ));
                }
                Name::Family { .. } => {
                    for name in raw.names().filter(|n| spec.family_member(n).is_some()) {
                        entries.push((
                            name.to_owned(),
                            entry(spec, name, raw, production, problems),
                        ));
                    }
                }
            }
        }
        Self {
            entries,
            read: RefCell::default(),
        }
    }

    /// Declared single variables never read through [`Values::get`].
    pub fn unread(&self) -> Vec<String> {
        let read = self.read.borrow();
        self.entries
            .iter()
            .filter(|(name, entry)| {
                matches!(entry.spec.name, Name::Single(_)) && !read.contains(name)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Every entry, in table order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .map(|(name, entry)| (name.as_str(), entry))
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, entry)| entry)
    }

    /// Mutable access, to record a generated value.
    pub fn entry_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, entry)| entry)
    }

    /// The typed value of a single variable; `None` when it was invalid (a problem is
    /// already recorded) or cannot be read as `T` (a declaration error, reported).
    pub fn get<T: SettingType>(&self, var: &Var<T>) -> Option<T> {
        let Name::Single(name) = var.spec.name else {
            return None;
        };
        self.read.borrow_mut().insert(name.to_owned());
        let entry = self.entry(name)?;
        if entry.invalid {
            return None;
        }
        T::from_value(entry.value.as_ref())
    }

    /// Like [`Values::get`], but a value that cannot be read as `T` is an error naming the
    /// variable (a mistake in the table, caught by the tests).
    pub fn require<T: SettingType>(&self, var: &Var<T>) -> Result<T, SettingsError> {
        self.get(var).ok_or_else(|| {
            SettingsError::Source(format!(
                "{}: declared as {} but not readable as {}",
                var.spec.display_name(),
                expected(&var.spec.kind),
                std::any::type_name::<T>()
            ))
        })
    }

    /// Every member of a family: `(NAME, value)` in name order; invalid members are skipped
    /// (their problems are recorded).
    pub fn family<T: SettingType>(&self, var: &Var<T>) -> Vec<(String, T)> {
        let mut members: Vec<(String, T)> = self
            .entries
            .iter()
            .filter(|(_, entry)| !entry.invalid)
            .filter_map(|(name, entry)| {
                let member = var.spec.family_member(name)?;
                let value = T::from_value(entry.value.as_ref())?;
                Some((member.to_owned(), value))
            })
            .collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        members
    }
}

fn entry(
    spec: &Spec,
    name: &str,
    raw: &Raw,
    production: bool,
    problems: &mut Vec<SettingsError>,
) -> Entry {
    let (text, origin) = match raw.get(name) {
        Some((text, origin)) => (Some(text), origin.clone()),
        None => {
            let fallback = match spec.fallback {
                Fallback::Value(text) => Some(text),
                Fallback::PerEnv { production: p, .. } if production => Some(p),
                Fallback::PerEnv { other, .. } => Some(other),
                Fallback::Unset | Fallback::Special(_) => None,
            };
            (fallback, Origin::Default)
        }
    };
    let Some(text) = text else {
        return Entry {
            spec: *spec,
            value: None,
            origin,
            invalid: false,
        };
    };
    let value = parse(&spec.kind, text);
    if value.is_none() {
        // In a list, name the item that does not fit.
        let culprit = match spec.kind {
            Kind::List(inner) => text
                .split(',')
                .map(str::trim)
                .find(|item| !item.is_empty() && parse(inner, item).is_none())
                .unwrap_or(text),
            _ => text,
        };
        problems.push(SettingsError::Invalid {
            var: name.to_owned(),
            expected: expected(&spec.kind),
            got: shown_input(spec, culprit),
        });
    }
    Entry {
        spec: *spec,
        invalid: value.is_none(),
        value,
        origin,
    }
}

/// An invalid input as it may be echoed: never a secret, never a URL password.
fn shown_input(spec: &Spec, text: &str) -> Option<String> {
    if spec.secret {
        None
    } else if matches!(spec.kind, Kind::Url(_)) || text.contains("://") {
        Some(mask_url(text))
    } else {
        Some(text.to_owned())
    }
}
