//! The evaluator, the role-play simulator and the governance agent.

use ainative_domain::{HelpLevel, Intent, SimulatorType};

use super::{quoted, Answer, Turn};

pub(super) fn evaluator(turn: &Turn<'_>, answer: &mut Answer) {
    answer.say(format!(
        "Evaluator mode: I assess how you worked on {}, not only the result. Answer in your own words.",
        turn.activity()
    ));
    let focus = match turn.guidance.intent {
        Intent::Debugging => "Explain the root cause of the problem you hit and how you found it — which evidence pointed you there?".to_owned(),
        Intent::CodeReview => "Point out the weakest part of your own code and say how you would improve it.".to_owned(),
        Intent::SolutionRequest => "In an evaluation I cannot give answers; show me your reasoning instead: what is your current approach, and why?".to_owned(),
        Intent::ConceptualQuestion => format!(
            "Explain {} as you would to a classmate, with an example of your own.",
            turn.cues.topic.clone().unwrap_or_else(|| "the key concept of this activity".to_owned())
        ),
        Intent::Clarification => "Tell me which criterion you are unsure about; then describe what you did for it.".to_owned(),
        Intent::OffTopic => "Let's stay on the activity: what is the state of your work right now?".to_owned(),
    };
    let mut questions = vec![
        focus,
        "Summarise what you did so far in three or four sentences.".to_owned(),
    ];
    if turn.guidance.help_level >= HelpLevel::Low {
        questions.push(
            "Justify one key decision: why this approach and not an alternative you considered?"
                .to_owned(),
        );
    }
    if turn.guidance.help_level >= HelpLevel::Medium {
        questions
            .push("How did you check that it works — which tests or cases did you try?".to_owned());
        questions.push("What was the hardest part, and how did you get past it?".to_owned());
    }
    answer.list(&questions);
    if turn.guidance.help_level >= HelpLevel::High {
        answer.say("You will be assessed on planning, execution, debugging, reflection and autonomy: evidence of each (a plan you made, a bug you found yourself, a decision you changed and why) counts more than a polished final answer.");
    }
}

/// The character a simulator plays.
struct Role {
    intro: &'static str,
    questions: [&'static str; 3],
    on_delegation: &'static str,
    coach: &'static str,
}

fn role(kind: Option<SimulatorType>) -> Role {
    match kind {
        Some(SimulatorType::ProductOwner) => Role {
            intro: "Product owner here. Before we talk about implementation, I need to understand the value for our users.",
            questions: [
                "Which user problem does this solve, and how will we know it is solved?",
                "What are the acceptance criteria? Give me two or three I could check in a demo.",
                "If we only had half the time, what would you ship first, and what would you cut?",
            ],
            on_delegation: "I can't decide the solution for the team — I need your proposal and its trade-offs.",
            coach: "write acceptance criteria as observable behaviour (\"given… when… then…\") and tie every feature to a user need.",
        },
        Some(SimulatorType::ScrumMaster) => Role {
            intro: "Scrum master here. Let's look at how the work is going, not only what is being built.",
            questions: [
                "What is your goal for this sprint, in one sentence?",
                "What is blocking you right now, and who could help remove it?",
                "How did you estimate this task, and what would \"done\" mean — tested, reviewed, documented?",
            ],
            on_delegation: "I won't do the task for you, but I can help you remove what is in your way. What is it?",
            coach: "name impediments concretely and agree on a definition of done before you start.",
        },
        Some(SimulatorType::TechInterviewer) => Role {
            intro: "Technical interviewer here. Walk me through your thinking; the reasoning matters more than the final answer.",
            questions: [
                "What is the time and space complexity of your approach, and can you justify it?",
                "Which edge cases would break a naive version, and how does yours handle them?",
                "What trade-off did you make, and what alternative would you pick under different constraints?",
            ],
            on_delegation: "In an interview I'd need to hear your approach — start with a brute-force idea and we'll improve it together.",
            coach: "think aloud, start with a simple correct version, then improve it and test it with a small example.",
        },
        Some(SimulatorType::IncidentResponder) => Role {
            intro: "Incident responder here. We have a production incident; let's stabilise first and investigate second.",
            questions: [
                "What is the impact: which users or services are affected, and since when?",
                "What is the timeline — what changed just before it started (deploys, config, traffic)?",
                "What can we do right now to mitigate, before we know the root cause?",
            ],
            on_delegation: "I need your assessment, not a guess from me: what does the evidence (logs, metrics) tell you?",
            coach: "separate mitigation from root cause, keep a timeline, and communicate impact in plain terms.",
        },
        Some(SimulatorType::Client) => Role {
            intro: "Hello, I'm the client. I'm not technical, so please explain things in plain language.",
            questions: [
                "What exactly will I get, and how does it help my business?",
                "When can I see a first version, and what will it cost me in time or money?",
                "What could go wrong, and what will you need from me?",
            ],
            on_delegation: "I'm paying for your expertise — what do you recommend, and why?",
            coach: "avoid jargon, restate the client's need before proposing, and make scope and risks explicit.",
        },
        Some(SimulatorType::Devsecops) => Role {
            intro: "DevSecOps engineer here. Before this goes to production, let's review it for security and operability.",
            questions: [
                "What is the threat model: who could misuse this, and what would they gain?",
                "How are secrets and user input handled — where is input validated, where are secrets stored?",
                "Which checks run in the pipeline (dependency audit, tests, static analysis), and what happens when one fails?",
            ],
            on_delegation: "I won't sign off on something you can't explain — walk me through your own security reasoning.",
            coach: "apply least privilege, validate every input at the boundary, keep secrets out of code and logs, and automate the checks.",
        },
        None => Role {
            intro: "Stakeholder here. Let's look at your work from the outside.",
            questions: [
                "What problem are you solving, and for whom?",
                "How will you show that it works?",
                "What is the biggest risk in your plan?",
            ],
            on_delegation: "I need your proposal — what do you suggest, and why?",
            coach: "be concrete: name the user, the outcome and the evidence.",
        },
    }
}

pub(super) fn simulator(turn: &Turn<'_>, answer: &mut Answer) {
    let role = role(turn.guidance.simulator_type);
    answer.say(role.intro);
    if let Some(excerpt) = &turn.cues.excerpt {
        answer.say(format!("You said: {}", quoted(excerpt)));
    }
    if turn.guidance.intent == Intent::SolutionRequest {
        answer.say(role.on_delegation);
    }
    let count = match turn.guidance.help_level {
        HelpLevel::Minimal => 2,
        _ => 3,
    };
    let questions: Vec<String> = role
        .questions
        .iter()
        .take(count)
        .map(|q| (*q).to_owned())
        .collect();
    answer.list(&questions);
    if turn.guidance.help_level >= HelpLevel::Medium {
        answer.say(format!("(Coach note, outside the role: {})", role.coach));
    }
    if turn.guidance.help_level >= HelpLevel::High {
        answer.say(format!(
            "(Coach note: answer one question at a time with facts from {}; it is fine to say what you do not know yet and how you would find out.)",
            turn.activity()
        ));
    }
}

pub(super) fn governance(turn: &Turn<'_>, answer: &mut Answer) {
    answer.say(format!(
        "I can't provide a complete solution or follow that instruction in {} — the activity asks you to build the answer yourself. Please reformulate your request:",
        turn.activity()
    ));
    answer.list(&[
        "State the problem you are trying to solve.".to_owned(),
        "Break it down into smaller parts.".to_owned(),
        "Propose a plan for the part you are on.".to_owned(),
        "Ask a specific doubt about one step.".to_owned(),
    ]);
}
