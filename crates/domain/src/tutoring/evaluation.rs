use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::wire_enum;

/// Competency band of an overall score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompetencyLevel {
    /// Score below 5.
    Initial,
    /// 5 to below 7.
    Developing,
    /// 7 to below 8.5.
    Autonomous,
    /// 8.5 and above.
    Expert,
}
wire_enum!(CompetencyLevel { Initial => "initial", Developing => "developing", Autonomous => "autonomous", Expert => "expert" });

impl CompetencyLevel {
    /// The band of a 0–10 score.
    pub fn from_score(score: f64) -> Self {
        if score >= 8.5 {
            Self::Expert
        } else if score >= 7.0 {
            Self::Autonomous
        } else if score >= 5.0 {
            Self::Developing
        } else {
            Self::Initial
        }
    }
}

/// The score of one process dimension.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DimensionScore {
    /// planning, execution, debugging, reflection or autonomy.
    pub name: String,
    /// 0–10.
    pub score: f64,
    /// What the score rests on.
    pub evidence: Vec<String>,
    /// Strengths seen.
    pub strengths: Vec<String>,
    /// Weaknesses seen.
    pub weaknesses: Vec<String>,
    /// What to do next.
    pub recommendations: Vec<String>,
}

/// The process evaluation of a finished session.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Identifier.
    pub id: Uuid,
    /// Session.
    pub session_id: Uuid,
    /// Student.
    pub student_id: Uuid,
    /// 0–10.
    pub overall_score: f64,
    /// Band of the overall score.
    pub competency_level: CompetencyLevel,
    /// Per-dimension scores.
    pub dimensions: Vec<DimensionScore>,
    /// 0–1.
    pub ai_dependency_score: f64,
    /// Main strengths.
    pub key_strengths: Vec<String>,
    /// What to improve.
    pub improvement_areas: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        assert_eq!(CompetencyLevel::from_score(4.99), CompetencyLevel::Initial);
        assert_eq!(
            CompetencyLevel::from_score(5.0),
            CompetencyLevel::Developing
        );
        assert_eq!(
            CompetencyLevel::from_score(7.0),
            CompetencyLevel::Autonomous
        );
        assert_eq!(CompetencyLevel::from_score(8.5), CompetencyLevel::Expert);
    }
}
