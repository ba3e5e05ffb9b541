//! The five process dimensions and their scoring rules (documented in the parent module).

use ainative_domain::{CognitiveState, DimensionScore, RiskKind};

use super::stats::SessionStats;

/// A dimension being scored.
struct Dim {
    name: &'static str,
    score: f64,
    evidence: Vec<String>,
    strengths: Vec<String>,
    weaknesses: Vec<String>,
    recommendations: Vec<String>,
}

impl Dim {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            score: 0.0,
            evidence: Vec::new(),
            strengths: Vec::new(),
            weaknesses: Vec::new(),
            recommendations: Vec::new(),
        }
    }

    fn evidence(&mut self, text: impl Into<String>) {
        self.evidence.push(text.into());
    }

    /// Adds a strength when `cond`, else a weakness and a recommendation.
    fn judge(&mut self, cond: bool, strength: &str, weakness: &str, recommendation: &str) {
        if cond {
            self.strengths.push(strength.to_owned());
        } else {
            self.weaknesses.push(weakness.to_owned());
            self.recommendations.push(recommendation.to_owned());
        }
    }

    fn done(mut self) -> DimensionScore {
        if self.score < 7.0 && self.recommendations.is_empty() {
            self.recommendations.push(format!(
                "Keep practising {}: make each step of your process explicit",
                self.name
            ));
        }
        DimensionScore {
            name: self.name.to_owned(),
            score: round1(self.score.clamp(0.0, 10.0)),
            evidence: self.evidence,
            strengths: self.strengths,
            weaknesses: self.weaknesses,
            recommendations: self.recommendations,
        }
    }
}

/// Rounds to one decimal.
pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Every dimension scored 0 for a session without interactions.
pub(crate) fn empty(name: &'static str) -> DimensionScore {
    let mut d = Dim::new(name);
    d.evidence("No interactions in the session");
    d.weaknesses.push("No evidence of the process".to_owned());
    d.recommendations.push(
        "Work through the activity with the tutor so your process can be observed".to_owned(),
    );
    d.done()
}

/// planning = 2 + 4·min(1, planning-or-exploring share / 0.3) + 2·[planned before coding]
/// + 2·justified share − 1.5·min(3, solution requests).
pub(crate) fn planning(s: &SessionStats) -> DimensionScore {
    let mut d = Dim::new("planning");
    let plan_turns = s.state(CognitiveState::Planning) + s.state(CognitiveState::Exploring);
    let delegations = s.intent("solution_request");
    d.evidence(format!(
        "{plan_turns} of {} interactions spent exploring or planning",
        s.turns
    ));
    d.evidence(format!(
        "{} of {} prompts justified their reasoning",
        s.justified, s.turns
    ));
    if delegations > 0 {
        d.evidence(format!("{delegations} requests for the complete solution"));
    }
    d.score = 2.0
        + 4.0 * (s.ratio(plan_turns) / 0.3).min(1.0)
        + 2.0 * flag(s.planned_before_code)
        + 2.0 * s.ratio(s.justified)
        - 1.5 * delegations.min(3) as f64;
    d.judge(
        s.planned_before_code,
        "Explored the problem before writing code",
        "Started coding (or asked for code) without exploring the problem first",
        "Before coding, state the problem in your own words and sketch a plan",
    );
    d.judge(
        delegations == 0,
        "Never asked for the complete solution",
        "Asked the AI for the complete solution",
        "Break the problem into parts and ask specific questions instead of the whole solution",
    );
    d.done()
}

/// execution = 2 without code; else 3 + 3·min(1, submissions / 3) + 2·(1 − AI mean)
/// + 2·[progress or validation seen] − 3·[academic-integrity risk].
pub(crate) fn execution(s: &SessionStats) -> DimensionScore {
    let mut d = Dim::new("execution");
    d.evidence(format!("{} code submissions", s.code_submissions));
    let progressed = s.state(CognitiveState::Progressing) + s.state(CognitiveState::Validating) > 0;
    let integrity = s.risk(RiskKind::AcademicIntegrity);
    if s.code_submissions == 0 {
        d.score = 2.0;
        d.judge(
            false,
            "",
            "No code was submitted during the session",
            "Share your code as you write it so the tutor can follow your work",
        );
        return d.done();
    }
    if integrity > 0 {
        d.evidence(format!(
            "{integrity} large code pastes right after an answer"
        ));
    }
    d.score = 3.0
        + 3.0 * (s.code_submissions as f64 / 3.0).min(1.0)
        + 2.0 * (1.0 - s.ai_mean)
        + 2.0 * flag(progressed)
        - 3.0 * flag(integrity > 0);
    d.judge(
        s.code_submissions >= 2,
        "Built the solution incrementally over several submissions",
        "Few code submissions: little evidence of incremental work",
        "Work in small steps and share each version",
    );
    d.judge(
        progressed,
        "Checked and advanced the implementation",
        "No sign of validating the implementation",
        "Test your code with your own cases before moving on",
    );
    if integrity > 0 {
        d.weaknesses
            .push("Pasted large blocks of code without explanation".to_owned());
        d.recommendations
            .push("Write the code yourself and explain any code you bring in".to_owned());
    }
    d.done()
}

/// debugging = 5 when no debugging was needed; else 3 + 4·resolved share + 2·min(1, error
/// reports / episodes) + 1·[self-correction] − 2·[stuck twice or more].
pub(crate) fn debugging(s: &SessionStats) -> DimensionScore {
    let mut d = Dim::new("debugging");
    if s.debugging_episodes == 0 && s.error_reports == 0 {
        d.score = 5.0;
        d.evidence("No debugging was needed or observed");
        return d.done();
    }
    let episodes = s.debugging_episodes.max(1);
    let resolved = if s.debugging_episodes == 0 {
        0.5
    } else {
        s.resolved_episodes as f64 / s.debugging_episodes as f64
    };
    let stuck = s.state(CognitiveState::Stuck);
    d.evidence(format!(
        "{} of {} debugging episodes resolved",
        s.resolved_episodes, s.debugging_episodes
    ));
    d.evidence(format!("{} error reports shared", s.error_reports));
    d.score = 3.0
        + 4.0 * resolved
        + 2.0 * (s.error_reports as f64 / episodes as f64).min(1.0)
        + flag(s.self_corrections > 0)
        - 2.0 * flag(stuck >= 2);
    d.judge(
        resolved >= 0.5,
        "Resolved the errors met",
        "Errors were left unresolved",
        "Read the error message line by line and form a hypothesis before changing code",
    );
    d.judge(
        s.error_reports > 0,
        "Shared the actual error output",
        "Described errors without the actual output",
        "Include the exact error output when asking about a bug",
    );
    if stuck >= 2 {
        d.weaknesses.push("Got stuck repeatedly".to_owned());
        d.recommendations.push(
            "When stuck, isolate the smallest failing case and test it on its own".to_owned(),
        );
    }
    d.done()
}

/// reflection = 2 + 4·min(1, reflecting share / 0.15) + 3·justified share
/// + 1·[validation seen] − 1·min(3, lack-of-justification risks).
pub(crate) fn reflection(s: &SessionStats) -> DimensionScore {
    let mut d = Dim::new("reflection");
    let reflecting = s.state(CognitiveState::Reflecting);
    let unjustified = s.risk(RiskKind::LackJustification);
    d.evidence(format!("{reflecting} reflective interactions"));
    d.evidence(format!("{} of {} prompts justified", s.justified, s.turns));
    if unjustified > 0 {
        d.evidence(format!("{unjustified} statements without justification"));
    }
    d.score = 2.0
        + 4.0 * (s.ratio(reflecting) / 0.15).min(1.0)
        + 3.0 * s.ratio(s.justified)
        + flag(s.state(CognitiveState::Validating) > 0)
        - unjustified.min(3) as f64;
    d.judge(
        reflecting > 0,
        "Reflected on what was learned",
        "No reflection on the process",
        "At the end of each step, write what you learned and what you would do differently",
    );
    d.judge(
        s.ratio(s.justified) >= 0.5,
        "Justified decisions",
        "Decisions were rarely justified",
        "Explain why you choose each approach (\"because…\")",
    );
    d.done()
}

/// autonomy = 10·(1 − AI mean) − 1.5·min(3, solution requests) − 1·[ai_dependency risk]
/// − 1·min(2, policy violations) − 1·[automation suspected].
pub(crate) fn autonomy(s: &SessionStats) -> DimensionScore {
    let mut d = Dim::new("autonomy");
    let delegations = s.intent("solution_request");
    let dependency = s.risk(RiskKind::AiDependency);
    let violations = s.risk(RiskKind::PolicyViolation);
    let automation = s.risk(RiskKind::AutomationSuspected);
    d.evidence(format!("Mean AI involvement {:.2}", s.ai_mean));
    if delegations > 0 {
        d.evidence(format!("{delegations} delegation attempts"));
    }
    if violations > 0 {
        d.evidence(format!("{violations} governance violations"));
    }
    d.score = 10.0 * (1.0 - s.ai_mean)
        - 1.5 * delegations.min(3) as f64
        - flag(dependency > 0)
        - violations.min(2) as f64
        - flag(automation > 0);
    d.judge(
        delegations == 0,
        "Never delegated the task to the AI",
        "Tried to delegate the task to the AI",
        "Attempt each step yourself and ask for hints, not for the solution",
    );
    d.judge(
        s.ai_mean <= 0.5,
        "Did most of the work without the AI",
        "Relied heavily on the AI",
        "Try each step on your own first and ask the AI only for hints",
    );
    if violations > 0 || automation > 0 {
        d.weaknesses
            .push("Tried to bypass the rules of the activity".to_owned());
        d.recommendations
            .push("Use the tutor as intended: it helps you learn, not to skip the work".to_owned());
    }
    d.done()
}
