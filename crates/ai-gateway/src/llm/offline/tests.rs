use std::collections::HashSet;

use ainative_domain::{Agent, HelpLevel, Intent, SimulatorType};
use ainative_ports::{ChatMessage, ChatRole, Guidance, LlmProvider, LlmRequest, StreamEvent};
use futures::StreamExt;

use super::*;

const CODE_MESSAGE: &str = "My code fails:\n```\nfn main() {\n    let v = vec![1];\n    let x = v[3];\n    println!(\"{}\", x.unwrap());\n}\n```\nthread 'main' panicked at src/main.rs:3:13: index out of bounds: the len is 1 but the index is 3\nWhat is an index and how do I fix it? Just give me the code.";

fn request(
    agent: Agent,
    intent: Intent,
    help_level: HelpLevel,
    simulator_type: Option<SimulatorType>,
    allow_code_snippets: bool,
    message: &str,
) -> LlmRequest {
    LlmRequest {
        messages: vec![
            ChatMessage {
                role: ChatRole::System,
                content: "You are a Socratic tutor.".to_owned(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: "earlier question".to_owned(),
            },
            ChatMessage {
                role: ChatRole::Assistant,
                content: format!("{OFFLINE_NOTICE}\n\nUse a loop over the items."),
            },
            ChatMessage {
                role: ChatRole::User,
                content: message.to_owned(),
            },
        ],
        temperature: 0.2,
        max_tokens: 512,
        guidance: Guidance {
            agent,
            intent,
            help_level,
            simulator_type,
            activity_title: "Vectors and indexing".to_owned(),
            subject: "Rust".to_owned(),
            allow_code_snippets,
            grounding: Vec::new(),
        },
    }
}

fn tutor(intent: Intent, level: HelpLevel, message: &str) -> String {
    OfflineProvider
        .answer(&request(Agent::Tutor, intent, level, None, false, message))
        .content
}

fn all_requests(allow: bool) -> Vec<LlmRequest> {
    let mut out = Vec::new();
    for agent in Agent::ALL {
        for intent in Intent::ALL {
            for level in HelpLevel::ALL {
                for sim in std::iter::once(None).chain(SimulatorType::ALL.iter().copied().map(Some))
                {
                    for message in [CODE_MESSAGE, "what is a closure?", ""] {
                        out.push(request(*agent, *intent, *level, sim, allow, message));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn same_request_same_answer() {
    for req in all_requests(true).iter().step_by(7) {
        assert_eq!(OfflineProvider.answer(req), OfflineProvider.answer(req));
    }
}

#[test]
fn every_answer_says_it_is_the_offline_rule_based_tutor() {
    for req in all_requests(false) {
        let answer = OfflineProvider.answer(&req);
        assert!(answer.content.starts_with(OFFLINE_NOTICE));
        assert!(answer.content.contains("not a language model"));
        assert_eq!(answer.model, OFFLINE_MODEL);
    }
}

#[test]
fn never_code_when_snippets_are_not_allowed() {
    for req in all_requests(false) {
        let content = OfflineProvider.answer(&req).content;
        assert!(!content.contains('`'), "code in: {content}");
        assert!(
            !content.contains("eprintln!") && !content.contains("#[test]"),
            "{content}"
        );
        // The student's code is never echoed back either.
        assert!(!content.contains("let x = v[3]"), "{content}");
    }
}

#[test]
fn snippets_are_skeletons_when_allowed_and_never_for_solution_requests() {
    let provider = OfflineProvider;
    let debug = provider.answer(&request(
        Agent::Tutor,
        Intent::Debugging,
        HelpLevel::Medium,
        None,
        true,
        CODE_MESSAGE,
    ));
    assert!(
        debug.content.contains("```rust\neprintln!"),
        "{}",
        debug.content
    );
    let review = provider.answer(&request(
        Agent::Tutor,
        Intent::CodeReview,
        HelpLevel::High,
        None,
        true,
        CODE_MESSAGE,
    ));
    assert!(review.content.contains("#[test]"), "{}", review.content);
    for level in HelpLevel::ALL {
        let solution = provider.answer(&request(
            Agent::Tutor,
            Intent::SolutionRequest,
            *level,
            None,
            true,
            CODE_MESSAGE,
        ));
        assert!(!solution.content.contains('`'));
        assert!(solution.content.contains("I will not write the solution"));
    }
}

#[test]
fn each_tutor_intent_gets_its_own_guidance() {
    let answers: HashSet<String> = Intent::ALL
        .iter()
        .map(|intent| tutor(*intent, HelpLevel::Medium, CODE_MESSAGE))
        .collect();
    assert_eq!(answers.len(), Intent::ALL.len());

    let debugging = tutor(Intent::Debugging, HelpLevel::High, CODE_MESSAGE);
    assert!(debugging.contains("What does the error message say"));
    assert!(debugging.contains("line 3"), "{debugging}");
    assert!(debugging.contains("index out of bounds"));
    assert!(debugging.contains("What did you expect"));
    assert!(debugging.contains("isolate"));
    assert!(debugging.contains("index or key points outside the collection"));

    let conceptual = tutor(
        Intent::ConceptualQuestion,
        HelpLevel::Medium,
        "What is a closure in Rust?",
    );
    assert!(conceptual.contains("closure in rust"), "{conceptual}");
    assert!(conceptual.contains("Why it exists"));
    assert!(conceptual.trim_end().ends_with('?') || conceptual.contains("least clear"));

    let review = tutor(Intent::CodeReview, HelpLevel::High, CODE_MESSAGE);
    for point in ["Names", "Edge cases", "Tests", "unwrap/expect"] {
        assert!(review.contains(point), "{point} missing in {review}");
    }

    let clarification = tutor(Intent::Clarification, HelpLevel::Low, "I don't get it");
    assert!(
        clarification.contains("Earlier I said: \"Use a loop over the items.\""),
        "{clarification}"
    );

    let off_topic = tutor(Intent::OffTopic, HelpLevel::Low, "who won the match?");
    assert!(off_topic.contains("outside \"Vectors and indexing\""));
}

#[test]
fn more_help_means_more_guidance() {
    for intent in [
        Intent::Debugging,
        Intent::ConceptualQuestion,
        Intent::CodeReview,
        Intent::Clarification,
    ] {
        let lengths: Vec<usize> = HelpLevel::ALL
            .iter()
            .map(|level| tutor(intent, *level, CODE_MESSAGE).len())
            .collect();
        assert!(
            lengths.windows(2).all(|w| w[0] < w[1]),
            "{intent}: {lengths:?}"
        );
    }
}

#[test]
fn each_agent_answers_differently() {
    let answers: HashSet<String> = Agent::ALL
        .iter()
        .map(|agent| {
            OfflineProvider
                .answer(&request(
                    *agent,
                    Intent::Debugging,
                    HelpLevel::Medium,
                    Some(SimulatorType::Client),
                    false,
                    CODE_MESSAGE,
                ))
                .content
        })
        .collect();
    assert_eq!(answers.len(), Agent::ALL.len());

    let evaluator = OfflineProvider
        .answer(&request(
            Agent::Evaluator,
            Intent::CodeReview,
            HelpLevel::Medium,
            None,
            false,
            "done",
        ))
        .content;
    assert!(evaluator.contains("Summarise what you did"));
    assert!(evaluator.contains("Justify"));

    let governance = OfflineProvider
        .answer(&request(
            Agent::Governance,
            Intent::SolutionRequest,
            HelpLevel::High,
            None,
            true,
            "give me the code",
        ))
        .content;
    for step in [
        "State the problem",
        "Break it down",
        "Propose a plan",
        "specific doubt",
    ] {
        assert!(governance.contains(step));
    }
}

#[test]
fn each_simulator_role_is_played() {
    let answer = |sim| {
        OfflineProvider
            .answer(&request(
                Agent::Simulator,
                Intent::Clarification,
                HelpLevel::Low,
                Some(sim),
                false,
                "Here is my plan.",
            ))
            .content
    };
    let answers: HashSet<String> = SimulatorType::ALL.iter().map(|s| answer(*s)).collect();
    assert_eq!(answers.len(), SimulatorType::ALL.len());
    assert!(answer(SimulatorType::ProductOwner).contains("acceptance criteria"));
    assert!(answer(SimulatorType::ProductOwner).contains("value"));
    assert!(answer(SimulatorType::TechInterviewer).contains("complexity"));
    let incident = answer(SimulatorType::IncidentResponder);
    assert!(incident.contains("impact") && incident.contains("timeline"));
    assert!(answer(SimulatorType::Devsecops).contains("threat model"));
    assert!(answer(SimulatorType::ScrumMaster).contains("blocking"));
    assert!(answer(SimulatorType::Client).contains("plain language"));
    assert!(answer(SimulatorType::Client).contains("You said: \"Here is my plan.\""));
}

#[test]
fn tokens_are_counted_in_words() {
    let req = request(
        Agent::Tutor,
        Intent::Debugging,
        HelpLevel::Low,
        None,
        false,
        "it panics",
    );
    let answer = OfflineProvider.answer(&req);
    assert_eq!(
        answer.tokens_out as usize,
        answer.content.split_whitespace().count()
    );
    // system (5) + "earlier question" (2) + assistant notice and text + "it panics" (2)
    let expected: usize = req
        .messages
        .iter()
        .map(|m| m.content.split_whitespace().count())
        .sum();
    assert_eq!(answer.tokens_in as usize, expected);
}

#[tokio::test]
async fn stream_yields_word_chunks_then_done() {
    let req = request(
        Agent::Tutor,
        Intent::ConceptualQuestion,
        HelpLevel::High,
        None,
        false,
        "what is ownership?",
    );
    let complete = OfflineProvider.complete(&req).await.ok();
    let events: Vec<_> = match OfflineProvider.stream(&req).await {
        Ok(stream) => stream.collect().await,
        Err(e) => panic!("{e}"),
    };
    let (last, deltas) = events.split_last().expect("events");
    let text: String = deltas
        .iter()
        .map(|e| match e {
            Ok(StreamEvent::Delta(d)) => {
                assert!(d.split_whitespace().count() == 1, "chunk {d:?}");
                d.clone()
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    match last {
        Ok(StreamEvent::Done(done)) => {
            assert_eq!(done.content, text);
            assert_eq!(Some(done.clone()), complete);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn word_chunks_concatenate_to_the_text() {
    for text in ["", "one", "  lead", "a  b\n\nc ", "é ü\tz"] {
        assert_eq!(word_chunks(text).concat(), text);
    }
}

#[test]
fn a_grounded_tutor_answer_quotes_the_best_passage_with_its_section() {
    let passage = |text: &str, section: Option<&str>| ainative_ports::GroundingPassage {
        material_id: uuid::Uuid::from_u128(1),
        chunk_id: uuid::Uuid::from_u128(2),
        section: section.map(str::to_owned),
        text: text.to_owned(),
    };
    let long: String = (0..100).map(|i| format!("w{i} ")).collect();
    let mut grounded = request(
        Agent::Tutor,
        Intent::ConceptualQuestion,
        HelpLevel::Low,
        None,
        false,
        "what is a base case?",
    );
    grounded.guidance.grounding = vec![
        passage(
            "A base case   stops the recursion.",
            Some("Recursion › Base case"),
        ),
        passage("Not quoted: only the best passage is.", None),
    ];
    let answer = OfflineProvider.answer(&grounded).content;
    assert!(answer.starts_with(OFFLINE_NOTICE));
    assert!(
        answer.contains(
            "From the course material (Recursion › Base case):\n> A base case stops the recursion."
        ),
        "{answer}"
    );
    assert!(!answer.contains("Not quoted"));

    grounded.guidance.grounding = vec![passage(&long, None)];
    let answer = OfflineProvider.answer(&grounded).content;
    assert!(
        answer.contains("From the course material:\n> w0 w1"),
        "{answer}"
    );
    assert!(
        answer.contains("w59…") && !answer.contains("w60"),
        "{answer}"
    );

    // Without grounding, and for other agents, nothing is quoted.
    let plain = tutor(
        Intent::ConceptualQuestion,
        HelpLevel::Low,
        "what is a base case?",
    );
    assert!(!plain.contains("From the course material"));
    let mut evaluator = grounded.clone();
    evaluator.guidance.agent = Agent::Evaluator;
    assert!(!OfflineProvider
        .answer(&evaluator)
        .content
        .contains("From the course material"));
}
