//! The Socratic tutor: one composer per intent, scaled by the help level.

use ainative_domain::{HelpLevel, Intent};

use super::cues::ErrorKind;
use super::{quoted, Answer, Turn};

pub(super) fn compose(turn: &Turn<'_>, answer: &mut Answer) {
    match turn.guidance.intent {
        Intent::Debugging => debugging(turn, answer),
        Intent::ConceptualQuestion => conceptual(turn, answer),
        Intent::CodeReview => code_review(turn, answer),
        Intent::SolutionRequest => solution_request(turn, answer),
        Intent::Clarification => clarification(turn, answer),
        Intent::OffTopic => off_topic(turn, answer),
    }
}

fn level(turn: &Turn<'_>) -> HelpLevel {
    turn.guidance.help_level
}

fn debugging(turn: &Turn<'_>, answer: &mut Answer) {
    let cues = &turn.cues;
    match &cues.error_line {
        Some(line) => answer.say(format!(
            "Let's debug this in {} step by step. You report: {}",
            turn.activity(),
            quoted(line)
        )),
        None if cues.has_code() => answer
            .say("Let's debug this step by step. I see code but no error message or output yet."),
        None => answer.say(format!(
            "Let's debug this in {} step by step, before changing anything.",
            turn.activity()
        )),
    };
    let first = if cues.error_line.is_some() {
        "What does the error message say, in your own words? Read it slowly, from the first line."
    } else {
        "What exactly happens: an error message, a wrong output, or does it never finish? Paste the exact message or output."
    };
    let where_ = match &cues.line_ref {
        Some(line) => format!("It points at {line}: what is that line doing, and which values does it use?"),
        None => "On which line or in which function does it start? The first place the message points to in your own code is the place to look.".to_owned(),
    };
    answer.list(&[
        first.to_owned(),
        where_,
        "What did you expect to happen, and what happened instead?".to_owned(),
    ]);
    if level(turn) >= HelpLevel::Low {
        answer.say(
            "Hint: isolate the problem. Reproduce it with the smallest input you can find, and \
             check the values just before the failing line. What changed since it last worked?",
        );
    }
    if level(turn) >= HelpLevel::Medium {
        answer.say(
            "A method that works for most bugs: (a) read the first error, not the last — later \
             errors are often consequences; (b) find the line in your own code it points to; \
             (c) state a hypothesis in one sentence (\"the list is empty here because…\"); \
             (d) test it with one small change, a print or an assertion; (e) undo changes that \
             did not help, so you only keep what you understand.",
        );
        if let Some(snippet) = debug_snippet(turn) {
            answer.say(format!(
                "To see the values before the failing line, a temporary print like this helps (remove it afterwards):\n\n{snippet}"
            ));
        }
    }
    if level(turn) >= HelpLevel::High {
        answer.say(match cues.error_kind {
            Some(kind) => format!(
                "What errors of this kind usually mean: {}",
                kind_explanation(kind)
            ),
            None => {
                "Common causes worth checking one by one: a value that is missing or empty, an \
                     index one past the end, a variable changed somewhere you did not expect, a \
                     wrong assumption about the input format. Which one can you rule out first?"
                    .to_owned()
            }
        });
    }
    answer
        .say("Tell me what you find for these questions and we will take the next step together.");
}

fn kind_explanation(kind: ErrorKind) -> String {
    match kind {
        ErrorKind::MissingValue => "a value you use is absent (null, None, undefined) at that moment. Where is it supposed to be set, and is there a path where it is not?",
        ErrorKind::OutOfBounds => "an index or key points outside the collection. How long is the collection at that moment, and which index do you ask for? Check the first and the last iteration of the loop.",
        ErrorKind::Ownership => "a value is used after it was moved or while it is borrowed elsewhere. Who owns the value at that line? Does the code need the value itself, a reference to it, or a copy?",
        ErrorKind::Types => "a value has a different type than the operation expects. Which type does each side have? Where was that value created?",
        ErrorKind::UnknownName => "a name is not visible where you use it: a typo, a missing import, or a variable declared in another scope. Where is that name defined?",
        ErrorKind::Syntax => "the code does not parse. The real mistake is often just before the reported position: an unclosed bracket or quote, a missing separator, or wrong indentation.",
        ErrorKind::FailedCheck => "the code runs but computes something else. Compare the expected and the actual value: by how much do they differ, and for which input does the difference start?",
        ErrorKind::Hang => "the program waits or loops forever. Which loop condition should become false, and does each iteration bring it closer? Is anything waiting for something that never comes?",
    }
    .to_owned()
}

fn conceptual(turn: &Turn<'_>, answer: &mut Answer) {
    let topic = turn
        .cues
        .topic
        .clone()
        .unwrap_or_else(|| "this concept".to_owned());
    answer.say(format!(
        "Good question. Before any explanation of {topic}: what do you already know or suspect about it, and where did it come up in {}?",
        turn.activity()
    ));
    if level(turn) >= HelpLevel::Low {
        answer.say(format!(
            "Hint: try to describe {topic} in one sentence, then find one place in your {} work where it appears. What problem does it solve there?",
            turn.subject()
        ));
    }
    if level(turn) >= HelpLevel::Medium {
        answer.say(format!(
            "To really understand {topic}, look at it from three sides:"
        ));
        answer.list(&[
            "What it is: a definition in your own words, without copying one.".to_owned(),
            "Why it exists: which problem it solves, and what would be harder without it.".to_owned(),
            "How it is used: a minimal example you could write yourself, and one case where it does not apply.".to_owned(),
        ]);
    }
    if level(turn) >= HelpLevel::High {
        answer.say(format!(
            "Then connect it: compare {topic} with a related idea you already know — how are they alike, how do they differ? And apply it: which step of {} needs it, and what would change with a different approach?",
            turn.activity()
        ));
    }
    answer.say("Which part is least clear to you right now? Start there and tell me your current understanding.");
}

fn code_review(turn: &Turn<'_>, answer: &mut Answer) {
    let cues = &turn.cues;
    if cues.has_code() {
        answer.say(format!(
            "You shared about {} line{} of code. Let's review it the way a careful colleague would.",
            cues.code_lines,
            if cues.code_lines == 1 { "" } else { "s" }
        ));
    } else {
        answer.say("Let's review your code the way a careful colleague would (paste the part you want reviewed if you have not yet).");
    }
    answer.list(&[
        "Which part are you least sure about, and why?".to_owned(),
        "Which inputs have you tried it with, and which have you not?".to_owned(),
    ]);
    if level(turn) >= HelpLevel::Low {
        answer.say("Check three things first: names, edge cases and tests.");
    }
    if level(turn) >= HelpLevel::Medium {
        answer.list(&[
            "Names: does every name say what the value means, not how it is computed?".to_owned(),
            "Responsibilities: can you describe each function in one sentence? If you need \"and\", it may do two things.".to_owned(),
            "Edge cases: empty input, a single element, duplicates, zero and negative numbers, very large values, missing values.".to_owned(),
            "Errors: when something fails, is it reported to the caller or silently ignored?".to_owned(),
            "Tests: which test would fail if you introduced a bug on purpose? If none, that is the next test to write.".to_owned(),
        ]);
    }
    if level(turn) >= HelpLevel::High {
        if !cues.code_notes.is_empty() {
            let notes: Vec<String> = cues.code_notes.iter().map(|n| (*n).to_owned()).collect();
            answer.say("Some points I notice:");
            answer.list(&notes);
        }
        if let Some(snippet) = test_skeleton(turn) {
            answer.say(format!(
                "A test outline you can fill in (the assertions are yours to decide):\n\n{snippet}"
            ));
        }
    }
    answer.say(
        "Pick the one or two points you think matter most and tell me how you would address them.",
    );
}

fn solution_request(turn: &Turn<'_>, answer: &mut Answer) {
    answer.say(format!(
        "I will not write the solution for you — working it out is what {} is for, and you can do it. Let's make it manageable:",
        turn.activity()
    ));
    answer.list(&[
        "State the problem in your own words: what are the inputs, and what must the output be?"
            .to_owned(),
        "Break it into two to four smaller steps.".to_owned(),
        "Propose a plan, even a rough one, for the first step.".to_owned(),
        "Ask me a specific doubt about one step.".to_owned(),
    ]);
    if level(turn) >= HelpLevel::Low {
        answer.say("If you do not know where to start: what data do you have at the beginning, and what is the very first thing you would do with it by hand?");
    }
    if level(turn) >= HelpLevel::Medium {
        answer.say(
            "Share your plan and I will question it step by step, so you find the gaps yourself.",
        );
    }
}

fn clarification(turn: &Turn<'_>, answer: &mut Answer) {
    match &turn.previous_answer {
        Some(previous) => answer.say(format!("Earlier I said: {}", quoted(previous))),
        None => answer.say("Let's clear it up."),
    };
    answer.say("Which part is unclear: a word, a step, or why it matters?");
    if level(turn) >= HelpLevel::Low {
        answer.say("Try to restate the idea in your own words; I will point out where your version drifts.");
    }
    if level(turn) >= HelpLevel::Medium {
        answer.say(
            "Point to the exact sentence that lost you and tell me what you understood from it.",
        );
    }
    if level(turn) >= HelpLevel::High {
        answer.say(format!(
            "Or make it concrete: take the smallest example from {} and walk through it step by step. At which step does it stop making sense?",
            turn.activity()
        ));
    }
}

fn off_topic(turn: &Turn<'_>, answer: &mut Answer) {
    answer.say(format!(
        "That seems outside {}. I can help you with {} and this activity.",
        turn.activity(),
        turn.subject()
    ));
    answer.say("What are you working on right now, and where are you stuck?");
}

/// The language of the activity, for snippets.
fn language(turn: &Turn<'_>) -> &'static str {
    let text = format!(
        "{} {}",
        turn.guidance.subject.to_lowercase(),
        turn.guidance.activity_title.to_lowercase()
    );
    let has_word = |w: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '+')
            .any(|t| t == w)
    };
    if has_word("rust") {
        "rust"
    } else if has_word("python") {
        "python"
    } else if has_word("javascript") || has_word("typescript") || has_word("js") || has_word("node")
    {
        "javascript"
    } else if has_word("java") {
        "java"
    } else if has_word("c++") || has_word("cpp") {
        "cpp"
    } else {
        "text"
    }
}

fn debug_snippet(turn: &Turn<'_>) -> Option<String> {
    if !turn.guidance.allow_code_snippets {
        return None;
    }
    let body = match language(turn) {
        "rust" => "eprintln!(\"before the failing line: {:?}\", value);",
        "python" => "print(f\"before the failing line: {value!r}\")",
        "javascript" => "console.log(\"before the failing line:\", value);",
        "java" => "System.err.println(\"before the failing line: \" + value);",
        "cpp" => "std::cerr << \"before the failing line: \" << value << '\\n';",
        _ => "print \"before the failing line:\", value   (pseudo-code)",
    };
    Some(format!("```{}\n{body}\n```", language(turn)))
}

fn test_skeleton(turn: &Turn<'_>) -> Option<String> {
    if !turn.guidance.allow_code_snippets {
        return None;
    }
    let body = match language(turn) {
        "rust" => "#[test]\nfn handles_the_smallest_input() {\n    // Arrange: the smallest input that could break your code.\n    // Act: call your function with it.\n    // Assert: write down what must happen before running it.\n}",
        "python" => "def test_handles_the_smallest_input():\n    # Arrange: the smallest input that could break your code.\n    # Act: call your function with it.\n    # Assert: write down what must happen before running it.\n    ...",
        "javascript" => "test(\"handles the smallest input\", () => {\n  // Arrange: the smallest input that could break your code.\n  // Act: call your function with it.\n  // Assert: write down what must happen before running it.\n});",
        "java" => "@Test\nvoid handlesTheSmallestInput() {\n    // Arrange: the smallest input that could break your code.\n    // Act: call your method with it.\n    // Assert: write down what must happen before running it.\n}",
        "cpp" => "TEST(Solution, HandlesTheSmallestInput) {\n    // Arrange: the smallest input that could break your code.\n    // Act: call your function with it.\n    // Assert: write down what must happen before running it.\n}",
        _ => "test \"handles the smallest input\":\n    arrange: the smallest input that could break your code\n    act: call your function with it\n    assert: what must happen (decide before running it)",
    };
    Some(format!("```{}\n{body}\n```", language(turn)))
}
