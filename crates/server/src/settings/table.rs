//! The vocabulary of the settings table: what a setting is (name, type, default, accepted
//! values, secrecy, one doc line, section) and the `declare_settings!` macro that turns one
//! row per variable into a typed constant plus the `TABLE` every consumer iterates: parsing,
//! `check-config`, `.env.example`, docs/configuration.md and typo detection.

use std::marker::PhantomData;

/// A group of settings: one heading in `.env.example` and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// Heading.
    pub title: &'static str,
    /// Comment printed under the heading in `.env.example` (may be empty).
    pub note: &'static str,
}

/// The unit of a duration setting; the variable's name says it (`_SECS`, `_MS`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Milliseconds.
    Millis,
    /// Seconds.
    Secs,
    /// Minutes.
    Minutes,
    /// Days.
    Days,
}

impl TimeUnit {
    /// Plural noun, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Millis => "milliseconds",
            Self::Secs => "seconds",
            Self::Minutes => "minutes",
            Self::Days => "days",
        }
    }

    /// Length of one unit in milliseconds.
    pub fn millis(self) -> u64 {
        match self {
            Self::Millis => 1,
            Self::Secs => 1_000,
            Self::Minutes => 60_000,
            Self::Days => 86_400_000,
        }
    }
}

/// The type of a value and what it accepts.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Any text.
    Text,
    /// Text accepted by `check` (e.g. a tracing filter); `expected` describes it.
    Custom {
        /// What is expected, for messages and docs.
        expected: &'static str,
        /// The acceptance test.
        check: fn(&str) -> bool,
    },
    /// `true/false`, `1/0`, `yes/no`, `on/off`.
    Bool,
    /// An integer in `min..=max`.
    Int {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// A whole number of `unit`s in `min..=max`.
    Duration {
        /// The unit of the number.
        unit: TimeUnit,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// One of these words (case-sensitive).
    Enum(&'static [&'static str]),
    /// A URL starting with one of these prefixes (`postgres://`, `sqlite:`…). Passwords in
    /// URLs are masked wherever the value is shown.
    Url(&'static [&'static str]),
    /// A socket address such as `127.0.0.1:9100`.
    SocketAddr,
    /// A CIDR block or a single IP address.
    Cidr,
    /// A comma-separated list of items of the inner kind; empty items are ignored.
    List(&'static Kind),
}

/// The largest value of an integer setting read as `u32`.
pub const U32_MAX: i64 = u32::MAX as i64;

/// What an unset (or empty) variable means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// This value.
    Value(&'static str),
    /// No value: the setting is optional.
    Unset,
    /// Depends on `APP_ENV`.
    PerEnv {
        /// With `APP_ENV=production`.
        production: &'static str,
        /// Otherwise.
        other: &'static str,
    },
    /// No value; the text says what happens instead (e.g. a generated secret).
    Special(&'static str),
}

/// How a variable is named: one name, or a family `PREFIX<NAME>SUFFIX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// One variable.
    Single(&'static str),
    /// Every variable `PREFIX<NAME>SUFFIX`, `NAME` being upper-case letters, digits and
    /// inner underscores (e.g. `OAUTH_OIDC_<NAME>_ISSUER`).
    Family {
        /// Text before `<NAME>`.
        prefix: &'static str,
        /// Text after `<NAME>`.
        suffix: &'static str,
    },
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Variable name (or family pattern).
    pub name: Name,
    /// Section.
    pub section: &'static Section,
    /// Type and accepted values.
    pub kind: Kind,
    /// Meaning of unset.
    pub fallback: Fallback,
    /// Never shown: masked in `check-config`, never echoed in errors.
    pub secret: bool,
    /// A sample value for `.env.example` when there is no default.
    pub example: Option<&'static str>,
    /// The doc comment of the row (raw `///` lines).
    pub doc: &'static str,
}

/// Starts a row: its section and kind; the rest is set with the builder methods.
pub const fn spec(section: &'static Section, kind: Kind) -> Spec {
    Spec {
        name: Name::Single(""),
        section,
        kind,
        fallback: Fallback::Unset,
        secret: false,
        example: None,
        doc: "",
    }
}

impl Spec {
    /// The default value.
    pub const fn default(mut self, value: &'static str) -> Self {
        self.fallback = Fallback::Value(value);
        self
    }

    /// A default that depends on `APP_ENV`.
    pub const fn per_env(mut self, production: &'static str, other: &'static str) -> Self {
        self.fallback = Fallback::PerEnv { production, other };
        self
    }

    /// Unset by default; `what` says what happens then.
    pub const fn special(mut self, what: &'static str) -> Self {
        self.fallback = Fallback::Special(what);
        self
    }

    /// A secret: masked wherever shown.
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// A sample value for `.env.example`.
    pub const fn example(mut self, example: &'static str) -> Self {
        self.example = Some(example);
        self
    }

    /// Makes the row a family `PREFIX<NAME>SUFFIX`.
    pub const fn family(mut self, prefix: &'static str, suffix: &'static str) -> Self {
        self.name = Name::Family { prefix, suffix };
        self
    }

    /// The name as documented (`OAUTH_OIDC_<NAME>_ISSUER` for a family).
    pub fn display_name(&self) -> String {
        match self.name {
            Name::Single(name) => name.to_owned(),
            Name::Family { prefix, suffix } => format!("{prefix}<NAME>{suffix}"),
        }
    }

    /// The doc comment as one paragraph.
    pub fn doc_text(&self) -> String {
        self.doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// For a family: the `NAME` part of `var`, when `var` belongs to it.
    pub fn family_member<'a>(&self, var: &'a str) -> Option<&'a str> {
        let Name::Family { prefix, suffix } = self.name else {
            return None;
        };
        let name = var.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let valid = !name.is_empty()
            && !name.starts_with('_')
            && !name.ends_with('_')
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        valid.then_some(name)
    }
}

/// A declared setting whose value reads as a `T`.
pub struct Var<T> {
    /// The row.
    pub spec: Spec,
    ty: PhantomData<fn() -> T>,
}

impl<T> Var<T> {
    /// Used by `declare_settings!`: names the row after its constant (families keep their
    /// pattern) and attaches its doc comment.
    pub const fn new(name: &'static str, doc: &'static str, mut spec: Spec) -> Self {
        if let Name::Single(_) = spec.name {
            spec.name = Name::Single(name);
        }
        spec.doc = doc;
        Self {
            spec,
            ty: PhantomData,
        }
    }
}

/// Declares settings, one row each:
///
/// ```ignore
/// declare_settings! {
///     /// Listen port of the HTTP API (0 = any free port).
///     APP_PORT: u16 = spec(&SERVICE, Kind::Int { min: 0, max: 65_535 }).default("8000");
/// }
/// ```
///
/// Each row becomes `pub const APP_PORT: Var<u16>`, named like the variable, and an entry
/// of `pub const TABLE: &[Spec]`, in declaration order.
macro_rules! declare_settings {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ty = $spec:expr ;)+) => {
        $(
            $(#[doc = $doc])+
            pub const $name: $crate::settings::table::Var<$ty> =
                $crate::settings::table::Var::new(stringify!($name), concat!($($doc, "\n"),+), $spec);
        )+
        /// Every declared setting, in documentation order.
        pub const TABLE: &[$crate::settings::table::Spec] = &[$($name.spec),+];
    };
}

pub(crate) use declare_settings;
