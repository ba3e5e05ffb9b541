//! Step 1, ingestion: normalise the text, enforce the limits and classify the intent.
//!
//! # Normalisation
//! Prompt, code and error output lose control characters (newlines and tabs are kept) and
//! carriage returns become newlines. The prompt is trimmed and every run of spaces/tabs inside
//! a line collapses to one space, and runs of blank lines collapse to one; code and error
//! output keep their indentation and are only trimmed of trailing blank space. The limits of
//! SPEC §6 are checked again after normalisation (a prompt of control characters is empty).
//!
//! # Intent rules (first match wins; phrases match on folded text, see [`super::text`])
//! 1. **solution_request** — explicit delegation, EN/ES: "give me the solution/answer/code",
//!    "write the whole", "do it for me", "solve it for me", "complete code", "dame el código",
//!    "dame la solución", "resuélvelo", "hazlo por mí", "escribe todo el código", …
//! 2. **debugging** — error output present, or "error", "exception", "traceback", "crash",
//!    "doesn't work", "bug", "falla", "no funciona", "excepción", …
//! 3. **code_review** — code present (field or fenced in the prompt) together with "review",
//!    "revisa", "is this right", "is this correct", "improve", "mejorar", "feedback", …
//! 4. **off_topic** — an off-topic word (weather, football, movie, clima, fútbol, …) and no
//!    programming or activity vocabulary.
//! 5. **clarification** — "I mean", "clarify", "what do you mean", "no entendí", "no entiendo
//!    lo que", "a qué te refieres", "could you explain again", …
//! 6. **conceptual_question** — "what is", "why", "how does", "how do i", "qué es",
//!    "por qué", "cómo funciona", "difference between", …
//! 7. code present → **code_review**.
//! 8. programming or activity vocabulary (words of the title, subject, tags and instructions
//!    of five letters or more) → **conceptual_question**; otherwise **off_topic**.

use ainative_domain::{Activity, Intent, InteractionInput, ValidationErrors};

use super::text::{fenced_code_chars, Folded, Phrases};

/// The normalised input and its intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Normalised input (not yet redacted).
    pub input: InteractionInput,
    /// Classified intent.
    pub intent: Intent,
}

/// Step 1 of the pipeline.
pub trait Ingestion: Send + Sync {
    /// Normalises `input`, checks its limits and classifies its intent for `activity`.
    fn ingest(
        &self,
        input: InteractionInput,
        activity: &Activity,
    ) -> Result<Ingested, ValidationErrors>;
}

/// The rule-based ingestion documented in this module.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleIngestion;

impl Ingestion for RuleIngestion {
    fn ingest(
        &self,
        input: InteractionInput,
        activity: &Activity,
    ) -> Result<Ingested, ValidationErrors> {
        let input = InteractionInput::new(
            normalise_prompt(&input.prompt),
            input.code.as_deref().map(normalise_block),
            input.error_output.as_deref().map(normalise_block),
        )?;
        let intent = classify(&input, activity);
        Ok(Ingested { input, intent })
    }
}

/// Drops control characters except newlines and tabs (`\r\n` and `\r` become `\n`).
pub fn strip_controls(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// Normalises a prompt: controls stripped, trimmed, runs of spaces/tabs collapsed to one
/// space, runs of blank lines collapsed to one.
pub fn normalise_prompt(text: &str) -> String {
    let cleaned = strip_controls(text);
    let mut lines: Vec<String> = Vec::new();
    for line in cleaned.split('\n') {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let blank = collapsed.is_empty();
        if blank && lines.last().is_some_and(|l| l.is_empty()) {
            continue;
        }
        lines.push(collapsed);
    }
    lines.join("\n").trim().to_owned()
}

/// Normalises code or error output: controls stripped, trailing spaces of each line and
/// surrounding blank lines removed; indentation kept.
pub fn normalise_block(text: &str) -> String {
    let cleaned = strip_controls(text);
    let lines: Vec<&str> = cleaned.split('\n').map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').to_owned()
}

static SOLUTION_PHRASES: Phrases = Phrases::new(&[
    "give me the solution",
    "give me the answer",
    "give me the code",
    "give me the full",
    "give me the complete",
    "give me the whole",
    "write the whole",
    "write the full",
    "write the complete",
    "write it for me",
    "do it for me",
    "solve it for me",
    "solve this for me",
    "just give me",
    "complete code",
    "full solution",
    "complete solution",
    "the whole program",
    "finish it for me",
    "dame el codigo",
    "dame la solucion",
    "dame la respuesta",
    "dame el programa",
    "resuelv*",
    "hazlo por mi",
    "hazlo tu",
    "escribe todo el",
    "escribelo",
    "escribeme el codigo",
    "codigo completo",
    "solucion completa",
]);

static DEBUG_PHRASES: Phrases = Phrases::new(&[
    "error",
    "errors",
    "exception",
    "traceback",
    "stack trace",
    "crash*",
    "bug",
    "segfault",
    "doesn t work",
    "does not work",
    "not working",
    "fails",
    "failing",
    "falla*",
    "no funciona",
    "excepcion",
    "se cae",
    "se rompe",
    "no compila",
    "doesn t compile",
]);

static REVIEW_PHRASES: Phrases = Phrases::new(&[
    "review",
    "revisa*",
    "revision",
    "is this right",
    "is this correct",
    "is it correct",
    "is it right",
    "improve",
    "mejorar",
    "mejora*",
    "feedback",
    "esta bien",
    "es correcto",
    "better way",
    "optimi*",
]);

static CLARIFICATION_PHRASES: Phrases = Phrases::new(&[
    "i mean",
    "clarify",
    "what do you mean",
    "i don t understand what you",
    "didn t understand",
    "did not understand",
    "explain again",
    "say that again",
    "no entendi",
    "no entiendo lo que",
    "a que te refieres",
    "que quieres decir",
    "me refiero",
    "quiero decir",
    "aclara*",
    "explicalo de nuevo",
]);

static CONCEPTUAL_PHRASES: Phrases = Phrases::new(&[
    "what is",
    "what are",
    "what s",
    "why",
    "how does",
    "how do",
    "how can",
    "difference between",
    "when should",
    "que es",
    "que son",
    "por que",
    "como funciona",
    "como puedo",
    "como se",
    "diferencia entre",
    "para que sirve",
    "cuando usar",
]);

static OFF_TOPIC_WORDS: Phrases = Phrases::new(&[
    "weather",
    "football",
    "soccer",
    "movie",
    "movies",
    "song",
    "recipe",
    "girlfriend",
    "boyfriend",
    "holiday",
    "vacation",
    "horoscope",
    "clima",
    "tiempo hace",
    "futbol",
    "partido",
    "pelicula",
    "cancion",
    "receta",
    "novia",
    "novio",
    "vacaciones",
    "horoscopo",
]);

static PROGRAMMING_WORDS: Phrases = Phrases::new(&[
    "code",
    "codigo",
    "program*",
    "function*",
    "funcion*",
    "variable*",
    "loop*",
    "bucle*",
    "array*",
    "list*",
    "lista*",
    "class*",
    "clase*",
    "object*",
    "objeto*",
    "method*",
    "metodo*",
    "string*",
    "cadena*",
    "integer*",
    "entero*",
    "recurs*",
    "algorithm*",
    "algoritmo*",
    "compil*",
    "python",
    "java",
    "javascript",
    "rust",
    "sql",
    "api",
    "test*",
    "debug*",
    "depura*",
    "return*",
    "import*",
    "module*",
    "modulo*",
    "database",
    "base de datos",
    "query",
    "consulta",
    "git",
    "docker",
    "deploy*",
    "server",
    "servidor",
    "script*",
    "syntax",
    "sintaxis",
    "type*",
    "tipo*",
    "pointer*",
    "puntero*",
    "dictionar*",
    "diccionario*",
    "exercise",
    "ejercicio",
    "activity",
    "actividad",
    "task",
    "tarea",
    "requirement*",
    "requisito*",
    "sprint",
    "scrum",
    "backlog",
    "incident*",
    "incidente*",
    "security",
    "seguridad",
    "user story",
    "historia de usuario",
]);

/// Classifies the intent of a normalised input with the rules of the module documentation.
pub fn classify(input: &InteractionInput, activity: &Activity) -> Intent {
    let prompt = Folded::new(&input.prompt);
    let has_code = input.code.is_some() || fenced_code_chars(&input.prompt) > 0;
    if prompt.has_any(&SOLUTION_PHRASES) {
        return Intent::SolutionRequest;
    }
    if input.error_output.is_some() || prompt.has_any(&DEBUG_PHRASES) {
        return Intent::Debugging;
    }
    if has_code && prompt.has_any(&REVIEW_PHRASES) {
        return Intent::CodeReview;
    }
    let on_topic =
        has_code || prompt.has_any(&PROGRAMMING_WORDS) || mentions_activity(&prompt, activity);
    if !on_topic && prompt.has_any(&OFF_TOPIC_WORDS) {
        return Intent::OffTopic;
    }
    if prompt.has_any(&CLARIFICATION_PHRASES) {
        return Intent::Clarification;
    }
    if prompt.has_any(&CONCEPTUAL_PHRASES) {
        return Intent::ConceptualQuestion;
    }
    if has_code {
        return Intent::CodeReview;
    }
    if on_topic {
        Intent::ConceptualQuestion
    } else {
        Intent::OffTopic
    }
}

/// Whether the prompt uses a word of five letters or more from the activity's title,
/// subject, tags or instructions.
fn mentions_activity(prompt: &Folded, activity: &Activity) -> bool {
    let c = &activity.content;
    let long = |w: &&str| w.chars().count() >= 5;
    let vocabulary: Vec<Folded> = [
        c.title.as_str(),
        c.subject.as_str(),
        c.instructions.as_str(),
    ]
    .into_iter()
    .chain(c.tags.iter().map(String::as_str))
    .map(Folded::new)
    .collect();
    let words: std::collections::HashSet<&str> = vocabulary
        .iter()
        .flat_map(Folded::words)
        .filter(long)
        .collect();
    prompt.words().filter(long).any(|w| words.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::activity;

    fn input(prompt: &str, code: Option<&str>, error: Option<&str>) -> InteractionInput {
        InteractionInput::new(prompt.into(), code.map(Into::into), error.map(Into::into))
            .expect("valid input")
    }

    #[test]
    fn intents_in_english_and_spanish() {
        let cases: &[(&str, Option<&str>, Option<&str>, Intent)] = &[
            (
                "Give me the solution please",
                None,
                None,
                Intent::SolutionRequest,
            ),
            (
                "just write the whole program",
                None,
                None,
                Intent::SolutionRequest,
            ),
            ("do it for me", None, None, Intent::SolutionRequest),
            (
                "Dame el código completo",
                None,
                None,
                Intent::SolutionRequest,
            ),
            ("Resuélvelo tú", None, None, Intent::SolutionRequest),
            (
                "hazlo por mí, que no tengo tiempo",
                None,
                None,
                Intent::SolutionRequest,
            ),
            ("It throws an exception", None, None, Intent::Debugging),
            (
                "what happens here?",
                None,
                Some("Traceback: x"),
                Intent::Debugging,
            ),
            ("Mi bucle falla al final", None, None, Intent::Debugging),
            ("no funciona mi función", None, None, Intent::Debugging),
            (
                "Can you review this?",
                Some("for i in x: pass"),
                None,
                Intent::CodeReview,
            ),
            (
                "revisa mi código por favor",
                Some("x = 1"),
                None,
                Intent::CodeReview,
            ),
            ("is this right?", Some("x = 1"), None, Intent::CodeReview),
            (
                "¿cómo puedo mejorar esto?",
                Some("x = 1"),
                None,
                Intent::CodeReview,
            ),
            ("here it is", Some("x = 1"), None, Intent::CodeReview),
            ("What is a closure?", None, None, Intent::ConceptualQuestion),
            (
                "why do loops need a condition",
                None,
                None,
                Intent::ConceptualQuestion,
            ),
            ("¿Qué es una lista?", None, None, Intent::ConceptualQuestion),
            (
                "¿Por qué se usa return?",
                None,
                None,
                Intent::ConceptualQuestion,
            ),
            (
                "How does recursion work",
                None,
                None,
                Intent::ConceptualQuestion,
            ),
            (
                "What do you mean by invariant?",
                None,
                None,
                Intent::Clarification,
            ),
            (
                "No entendí lo del índice",
                None,
                None,
                Intent::Clarification,
            ),
            ("I mean the second step", None, None, Intent::Clarification),
            (
                "What's the weather like today?",
                None,
                None,
                Intent::OffTopic,
            ),
            (
                "¿Viste el partido de fútbol ayer?",
                None,
                None,
                Intent::OffTopic,
            ),
            ("hola", None, None, Intent::OffTopic),
            (
                "I need help with the fibonacci exercise",
                None,
                None,
                Intent::ConceptualQuestion,
            ),
        ];
        let activity = activity();
        for (prompt, code, error, expected) in cases {
            let got = classify(&input(prompt, *code, *error), &activity);
            assert_eq!(got, *expected, "prompt {prompt:?}");
        }
    }

    #[test]
    fn activity_vocabulary_keeps_a_prompt_on_topic() {
        let activity = activity();
        assert_eq!(
            classify(
                &input("the fibonacci sequence and the weather", None, None),
                &activity
            ),
            Intent::ConceptualQuestion
        );
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalise_prompt("  hello \t  world\u{0007}\r\n\n\n\nnext   line  "),
            "hello world\n\nnext line"
        );
        assert_eq!(
            normalise_block("\n  def f():  \r\n\treturn 1\u{0000}\n\n"),
            "  def f():\n\treturn 1"
        );
    }

    #[test]
    fn ingest_rejects_a_prompt_of_control_characters() {
        let raw = InteractionInput {
            prompt: "\u{0001}\u{0002}".into(),
            code: None,
            error_output: None,
        };
        assert!(RuleIngestion.ingest(raw, &activity()).is_err());
        let ok = RuleIngestion
            .ingest(input("  What   is a loop? ", Some("  "), None), &activity())
            .expect("valid");
        assert_eq!(ok.input.prompt, "What is a loop?");
        assert_eq!(ok.input.code, None);
        assert_eq!(ok.intent, Intent::ConceptualQuestion);
    }
}
