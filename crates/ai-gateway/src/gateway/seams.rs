//! The gateway's orchestration with every pipeline step replaced (`with_pipeline`): what each
//! step receives comes from the step before, and what is stored is exactly what the steps
//! produced, independently of the rules behind them.

use std::sync::{Arc, Mutex};

use ainative_domain::{
    Activity, ActivityPolicies, Agent, CognitiveState, CognitiveTrace, HelpLevel, Intent,
    Interaction, InteractionInput, Risk, RiskDimension, RiskKind, RiskLevel, StudySession,
    TraceKind, TraceLevel, ValidationErrors,
};
use ainative_ports::{ChatMessage, ChatRole, Guidance, LlmRequest};
use uuid::Uuid;

use super::tests::{answer, expect_one_record, factory, fixtures, gateway, input, mocks};
use crate::llm::{AnswerSource, Completed};
use crate::pipeline::testing::{t0, trace};
use crate::pipeline::{
    Assessment, BlockReason, CognitiveEngine, Governance, Governed, Ingested, Ingestion,
    MessageBuilder, MessageContext, Pipeline, Redactions, RiskAnalyzer, RiskContext, Strategy,
    TraceBuilder, TurnRecord, Verdict,
};

/// The steps' calls, in order.
type Calls = Arc<Mutex<Vec<&'static str>>>;

struct Steps {
    calls: Calls,
    block: bool,
    trace: CognitiveTrace,
    risk: Risk,
}

impl Steps {
    fn log(&self, step: &'static str) {
        self.calls.lock().expect("lock").push(step);
    }
}

fn text(prompt: &str) -> InteractionInput {
    InteractionInput {
        prompt: prompt.to_owned(),
        code: None,
        error_output: None,
    }
}

impl Ingestion for Steps {
    fn ingest(
        &self,
        input: InteractionInput,
        _activity: &Activity,
    ) -> Result<Ingested, ValidationErrors> {
        self.log("ingestion");
        assert_eq!(input.prompt, "raw words");
        Ok(Ingested {
            input: text("ingested words"),
            intent: Intent::Debugging,
        })
    }
}

impl Governance for Steps {
    fn review(&self, ingested: Ingested, _policies: &ActivityPolicies) -> Governed {
        self.log("governance");
        assert_eq!(ingested.input.prompt, "ingested words");
        assert_eq!(ingested.intent, Intent::Debugging);
        Governed {
            input: text("governed words"),
            intent: ingested.intent,
            redactions: Redactions::default(),
            verdict: if self.block {
                Verdict::Block {
                    reason: BlockReason::Delegation,
                    response: "Reformulate, please.".into(),
                }
            } else {
                Verdict::Allow
            },
        }
    }
}

impl CognitiveEngine for Steps {
    fn assess(
        &self,
        turn: &Governed,
        _history: &[Interaction],
        _session: &StudySession,
        _policies: &ActivityPolicies,
    ) -> Assessment {
        self.log("cognitive");
        assert_eq!(turn.input.prompt, "governed words");
        Assessment {
            state: CognitiveState::Stuck,
            agent: Agent::Simulator,
            help_level: HelpLevel::High,
            effort: true,
            justification: false,
            strategy: Strategy::RolePlay,
            rationale: "scripted",
        }
    }
}

impl MessageBuilder for Steps {
    fn build(&self, ctx: &MessageContext<'_>) -> LlmRequest {
        self.log("messages");
        assert_eq!(ctx.turn.input.prompt, "governed words");
        assert_eq!(ctx.assessment.help_level, HelpLevel::High);
        LlmRequest {
            messages: vec![ChatMessage {
                role: ChatRole::User,
                content: "built request".into(),
            }],
            temperature: 0.0,
            max_tokens: 7,
            guidance: Guidance {
                agent: ctx.assessment.agent,
                intent: ctx.turn.intent,
                help_level: ctx.assessment.help_level,
                simulator_type: None,
                activity_title: String::new(),
                subject: String::new(),
                allow_code_snippets: false,
                grounding: Vec::new(),
            },
        }
    }
}

impl TraceBuilder for Steps {
    fn traces(&self, turn: &TurnRecord<'_>) -> Vec<CognitiveTrace> {
        self.log("traces");
        assert_eq!(turn.input.prompt, "governed words");
        assert_eq!(turn.interaction.agent, Agent::Simulator);
        assert_eq!(turn.assessment.rationale, "scripted");
        assert_eq!(turn.verdict.is_blocked(), self.block);
        let expected = if self.block {
            "Reformulate, please."
        } else {
            "What happens when n is 0?"
        };
        assert_eq!(turn.interaction.response, expected);
        vec![self.trace.clone()]
    }
}

impl RiskAnalyzer for Steps {
    fn analyze(&self, ctx: &RiskContext<'_>) -> Vec<Risk> {
        self.log("risks");
        assert_eq!(ctx.traces, std::slice::from_ref(&self.trace));
        assert_eq!(ctx.assessment.state, CognitiveState::Stuck);
        vec![self.risk.clone()]
    }
}

fn scripted(session: &StudySession, block: bool) -> (Pipeline, Arc<Steps>) {
    let risk = Risk {
        id: Uuid::new_v4(),
        session_id: session.id,
        student_id: session.student_id,
        interaction_id: None,
        dimension: RiskDimension::Technical,
        kind: RiskKind::AiDependency,
        level: RiskLevel::Info,
        description: "scripted".into(),
        evidence_key: "scripted".into(),
        evidence: serde_json::json!({}),
        resolved_at: None,
        resolved_by: None,
        resolution_note: None,
        created_at: t0(),
    };
    let steps = Arc::new(Steps {
        calls: Calls::default(),
        block,
        trace: trace(
            session,
            TraceLevel::N4,
            TraceKind::StrategyChange,
            CognitiveState::Stuck,
            0.5,
            t0(),
            serde_json::json!({"scripted": true}),
        ),
        risk,
    });
    let pipeline = Pipeline {
        ingestion: steps.clone(),
        governance: steps.clone(),
        cognitive: steps.clone(),
        messages: steps.clone(),
        traces: steps.clone(),
        risks: steps.clone(),
    };
    (pipeline, steps)
}

#[tokio::test]
async fn each_step_feeds_the_next_and_the_store_gets_what_they_made() {
    let (a, s) = fixtures();
    let mut m = mocks();
    m.llm
        .expect_complete()
        .times(1)
        .withf(|request| request.messages[0].content == "built request" && request.max_tokens == 7)
        .returning(|_| {
            Ok(Completed {
                response: answer("What happens when n is 0?"),
                source: AnswerSource::Provider,
            })
        });
    let recorded = expect_one_record(&mut m);
    let (pipeline, steps) = scripted(&s, false);
    let f = factory(m).with_pipeline(pipeline);

    let record = gateway(&f)
        .interact(&s, &a, input("raw words", None, None))
        .await
        .expect("stored");

    assert_eq!(
        *steps.calls.lock().expect("lock"),
        [
            "ingestion",
            "governance",
            "cognitive",
            "messages",
            "traces",
            "risks"
        ]
    );
    let i = &record.interaction;
    assert_eq!(i.prompt, "governed words");
    assert_eq!(
        (i.intent, i.agent, i.help_level),
        (Intent::Debugging, Agent::Simulator, HelpLevel::High)
    );
    assert_eq!(record.traces, std::slice::from_ref(&steps.trace));
    assert_eq!(record.risks, std::slice::from_ref(&steps.risk));
    assert_eq!(recorded.lock().expect("lock")[0], record);
}

#[tokio::test]
async fn a_blocked_turn_skips_the_messages_and_the_model() {
    let (a, s) = fixtures();
    let mut m = mocks();
    m.llm.expect_complete().never();
    expect_one_record(&mut m);
    let (pipeline, steps) = scripted(&s, true);
    let f = factory(m).with_pipeline(pipeline);

    let record = gateway(&f)
        .interact(&s, &a, input("raw words", None, None))
        .await
        .expect("stored");

    assert_eq!(
        *steps.calls.lock().expect("lock"),
        ["ingestion", "governance", "cognitive", "traces", "risks"]
    );
    assert!(record.interaction.blocked);
    assert_eq!(record.interaction.response, "Reformulate, please.");
    assert_eq!(record.risks, std::slice::from_ref(&steps.risk));
}
