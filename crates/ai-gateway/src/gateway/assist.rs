//! LLM assistance for the evaluator (SPEC §6: "rules by default, LLM-assisted when a provider
//! is configured"). The scores stay rule-based; a language model only adds recommendations,
//! and any failure leaves the rule-based evaluation as it is.

use ainative_domain::{Activity, Agent, Evaluation, HelpLevel, Intent};
use ainative_ports::{ChatMessage, ChatRole, Guidance, LlmRequest};

use super::GatewayFactory;

/// At most this many recommendations are taken from the model.
const MAX_RECOMMENDATIONS: usize = 3;

fn prompt(evaluation: &Evaluation, activity: &Activity) -> String {
    let dimensions: Vec<String> = evaluation
        .dimensions
        .iter()
        .map(|d| {
            format!(
                "- {}: {:.1}/10; weaknesses: {}",
                d.name,
                d.score,
                d.weaknesses.join("; ")
            )
        })
        .collect();
    format!(
        "Activity: {} ({}).\nOverall score {:.1}/10 ({}), AI dependency {:.2}.\n{}\n\
         Improvement areas: {}.\n\nWrite at most three short, concrete recommendations for the \
         student's learning process, one per line, without numbering and without giving any solution.",
        activity.content.title,
        activity.content.subject,
        evaluation.overall_score,
        evaluation.competency_level,
        evaluation.ai_dependency_score,
        dimensions.join("\n"),
        evaluation.improvement_areas.join("; "),
    )
}

/// Cleans the model's lines into recommendations.
fn recommendations(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty() && l.chars().count() <= 300)
        .take(MAX_RECOMMENDATIONS)
        .map(str::to_owned)
        .collect()
}

impl GatewayFactory {
    /// Adds the language model's recommendations to a rule-based evaluation when the
    /// provider is a real model (not the offline tutor). Never fails: on any error the
    /// evaluation is returned unchanged.
    pub async fn assist_evaluation(
        &self,
        mut evaluation: Evaluation,
        activity: &Activity,
    ) -> Evaluation {
        if self.provider() == "offline" {
            return evaluation;
        }
        let request = LlmRequest {
            messages: vec![
                ChatMessage {
                    role: ChatRole::System,
                    content: "You are an evaluator of programming students' learning processes. \
                              Be brief, specific and encouraging."
                        .into(),
                },
                ChatMessage {
                    role: ChatRole::User,
                    content: prompt(&evaluation, activity),
                },
            ],
            temperature: 0.2,
            max_tokens: 300,
            guidance: Guidance {
                agent: Agent::Evaluator,
                intent: Intent::Clarification,
                help_level: HelpLevel::Low,
                simulator_type: None,
                activity_title: activity.content.title.clone(),
                subject: activity.content.subject.clone(),
                allow_code_snippets: false,
                grounding: Vec::new(),
            },
        };
        match self.shared.llm.complete(&request).await {
            Ok(done) => {
                let extra = recommendations(&done.response.content);
                evaluation.improvement_areas.extend(extra);
            }
            Err(err) => {
                tracing::warn!(error = %err, "LLM assistance of the evaluation failed; rules only")
            }
        }
        evaluation
    }
}

#[cfg(test)]
mod tests {
    use super::recommendations;

    #[test]
    fn lines_become_at_most_three_recommendations() {
        let text =
            "- Plan before coding\n\n* Test edge cases\n• Explain your reasoning\nA fourth one";
        assert_eq!(
            recommendations(text),
            [
                "Plan before coding",
                "Test edge cases",
                "Explain your reasoning"
            ]
        );
        assert!(recommendations("").is_empty());
    }
}
