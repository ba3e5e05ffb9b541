//! The W3C trace context a request arrived with.

use std::fmt;

/// A W3C `traceparent` value (`00-<trace id>-<parent id>-<flags>`), as seen at the edge,
/// kept so work done on behalf of the request (a job, an upstream call) can join its trace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceParent(String);

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl TraceParent {
    /// Parses a header value; `None` when it is not a valid `traceparent` (W3C Trace Context
    /// §3.2: lower-case hex, ids not all zero, version `ff` forbidden; later versions may add
    /// fields after the four known ones).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let known = raw.get(..55)?;
        let rest = &raw[55..];
        let mut parts = known.split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let shaped = version.len() == 2
            && trace_id.len() == 32
            && parent_id.len() == 16
            && flags.len() == 2
            && [version, trace_id, parent_id, flags]
                .iter()
                .all(|p| is_lower_hex(p));
        let valid = shaped
            && version != "ff"
            && trace_id.bytes().any(|b| b != b'0')
            && parent_id.bytes().any(|b| b != b'0')
            && (rest.is_empty() || (version != "00" && rest.starts_with('-')));
        valid.then(|| Self(known.to_owned()))
    }

    /// The header value (the four version-00 fields).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32-hex-digit trace id.
    pub fn trace_id(&self) -> &str {
        &self.0[3..35]
    }

    /// The 16-hex-digit id of the caller's span.
    pub fn parent_id(&self) -> &str {
        &self.0[36..52]
    }

    /// Whether the caller records this trace (the `sampled` flag).
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.0[53..55], 16).is_ok_and(|flags| flags & 1 == 1)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_the_w3c_example() {
        let tp = TraceParent::parse(VALID).expect("valid");
        assert_eq!(tp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.parent_id(), "00f067aa0ba902b7");
        assert!(tp.sampled());
        assert_eq!(tp.as_str(), VALID);
        let unsampled = VALID.replace("-01", "-00");
        assert!(!TraceParent::parse(&unsampled).expect("valid").sampled());
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        assert_eq!(
            TraceParent::parse(later).map(|t| t.as_str().len()),
            Some(55)
        );
    }
}
