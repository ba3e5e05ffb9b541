//! The tutoring domain (SPEC §6): activities, sessions, interactions, cognitive traces, risks
//! and evaluations.

mod activity;
mod enums;
mod evaluation;
mod interaction;
mod report;
mod risk;
mod row_id;
mod session;
mod trace;

pub use activity::{Activity, ActivityDraft, ActivityPolicies, ActivityStatus, Difficulty};
pub use enums::{Agent, CognitiveState, HelpLevel, Intent};
pub use evaluation::{CompetencyLevel, DimensionScore, Evaluation};
pub use interaction::{Interaction, InteractionInput};
pub use report::{
    ai_bucket, nearest_rank, AiBucket, AiInvolvement, OpenResolved, Report, ReportBody,
    ReportStatus, RiskCounts, ScoreStats, SessionCounts, StateClock, StateTime, AI_BUCKETS,
    AI_BUCKET_BOUNDS,
};
pub use risk::{Risk, RiskDimension, RiskKind, RiskLevel};
pub use row_id::turn_row_id;
pub use session::{
    SessionAction, SessionMode, SessionStatus, SimulatorType, StudySession, TurnRefused,
};
pub use trace::{CognitiveTrace, TraceKind, TraceLevel};

/// Implements `as_str`, `FromStr` (error names the accepted values) and `Display` for a
/// field-less enum with snake_case wire names.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage name.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown value '{}' (expected one of {})",
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use wire_enum;
