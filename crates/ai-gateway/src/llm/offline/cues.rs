//! What the offline tutor reads in the student's message: an excerpt, the error line, the
//! topic of a question, signs of code. Plain string rules, deterministic.

/// Longest excerpt quoted back to the student, in characters.
const EXCERPT_CHARS: usize = 100;

/// The family of an error message, used to say what such errors usually mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorKind {
    /// A missing value: null, None, undefined.
    MissingValue,
    /// An index or key outside the collection.
    OutOfBounds,
    /// Ownership and borrowing (Rust).
    Ownership,
    /// A value of the wrong type.
    Types,
    /// A name the compiler or interpreter cannot find.
    UnknownName,
    /// The code does not parse.
    Syntax,
    /// A test or assertion failed: the code runs but computes something else.
    FailedCheck,
    /// The program never finishes.
    Hang,
}

/// Facts read from the student's last message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Cues {
    /// The first meaningful line, shortened, safe to quote.
    pub excerpt: Option<String>,
    /// The first line that looks like an error message, shortened, safe to quote.
    pub error_line: Option<String>,
    /// A line reference found in the message (`line 42`, `:42:`).
    pub line_ref: Option<String>,
    /// The family of the error, if recognisable.
    pub error_kind: Option<ErrorKind>,
    /// The subject of a question (`what is X` → `X`).
    pub topic: Option<String>,
    /// Lines that look like code.
    pub code_lines: usize,
    /// Review points spotted in the code, phrased for the student.
    pub code_notes: Vec<&'static str>,
}

impl Cues {
    /// Reads `message`.
    pub(super) fn read(message: &str) -> Self {
        let lower = message.to_lowercase();
        let excerpt = message
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("```"))
            .map(quotable);
        let error_line = error_line(message);
        let code_lines = message.lines().filter(|l| looks_like_code(l)).count();
        Self {
            excerpt,
            error_line,
            line_ref: line_reference(&lower),
            error_kind: error_kind(&lower),
            topic: topic(&lower),
            code_lines,
            code_notes: if code_lines > 0 {
                code_notes(message)
            } else {
                Vec::new()
            },
        }
    }

    /// Whether the message carries code.
    pub(super) fn has_code(&self) -> bool {
        self.code_lines > 0
    }
}

/// `text` shortened and stripped of backticks and line breaks, safe to put between quotes.
pub(super) fn quotable(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c == '`' || c == '"' { '\'' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.chars().count() <= EXCERPT_CHARS {
        return cleaned;
    }
    let mut short: String = cleaned.chars().take(EXCERPT_CHARS).collect();
    if let Some(space) = short.rfind(' ') {
        short.truncate(space);
    }
    short.push('…');
    short
}

/// The first line that looks like an error message; when it ends with a colon (`panicked at
/// src/main.rs:12:9:`), the description on the next line is joined to it.
fn error_line(message: &str) -> Option<String> {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let index = lines
        .iter()
        .position(|l| error_kind(&l.to_lowercase()).is_some())
        .or_else(|| {
            lines
                .iter()
                .position(|l| looks_like_error(&l.to_lowercase()))
        })?;
    let line = lines[index];
    match lines.get(index + 1) {
        Some(next) if line.ends_with(':') => Some(quotable(&format!("{line} {next}"))),
        _ => Some(quotable(line)),
    }
}

fn looks_like_error(lower: &str) -> bool {
    const MARKERS: &[&str] = &[
        "error",
        "exception",
        "panicked",
        "traceback",
        "failed",
        "segmentation fault",
        "undefined is not",
        "cannot ",
        "can't ",
    ];
    MARKERS.iter().any(|m| lower.contains(m))
}

fn looks_like_code(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() || t.starts_with("```") {
        return false;
    }
    const STARTS: &[&str] = &[
        "fn ",
        "pub ",
        "let ",
        "def ",
        "class ",
        "import ",
        "from ",
        "return ",
        "if ",
        "for ",
        "while ",
        "function ",
        "const ",
        "var ",
        "#include",
        "public ",
        "private ",
        "impl ",
        "use ",
        "struct ",
        "}",
        "print(",
        "println!",
    ];
    t.ends_with(';')
        || t.ends_with('{')
        || (t.ends_with(':') && (t.starts_with("def ") || t.starts_with("if ")))
        || STARTS.iter().any(|s| t.starts_with(s))
}

fn line_reference(lower: &str) -> Option<String> {
    if let Some(pos) = lower.find("line ") {
        let digits: String = lower[pos + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() {
            return Some(format!("line {digits}"));
        }
    }
    // `file.ext:12:5` style locations.
    let bytes = lower.as_bytes();
    for (i, window) in bytes.windows(2).enumerate() {
        if window[0] == b':' && window[1].is_ascii_digit() && i > 0 && bytes[i - 1] != b' ' {
            let digits: String = lower[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if lower[i + 1 + digits.len()..].starts_with(':') {
                return Some(format!("line {digits}"));
            }
        }
    }
    None
}

fn error_kind(lower: &str) -> Option<ErrorKind> {
    const RULES: &[(&[&str], ErrorKind)] = &[
        (
            &["borrow", "moved value", "lifetime", "does not live long"],
            ErrorKind::Ownership,
        ),
        (
            &[
                "index out of",
                "out of range",
                "out of bounds",
                "indexerror",
                "keyerror",
            ],
            ErrorKind::OutOfBounds,
        ),
        (
            &[
                "nonetype",
                "nullpointer",
                "null pointer",
                "undefined is not",
                "unwrap()` on a `none`",
                "is none",
                "is null",
            ],
            ErrorKind::MissingValue,
        ),
        (
            &[
                "syntaxerror",
                "syntax error",
                "unexpected token",
                "indentationerror",
                "expected one of",
            ],
            ErrorKind::Syntax,
        ),
        (
            &[
                "not defined",
                "nameerror",
                "cannot find",
                "undeclared",
                "unresolved",
                "is not a function",
            ],
            ErrorKind::UnknownName,
        ),
        (
            &[
                "mismatched types",
                "typeerror",
                "type mismatch",
                "cannot convert",
                "incompatible types",
            ],
            ErrorKind::Types,
        ),
        (
            &[
                "assert",
                "test failed",
                "tests failed",
                "wrong output",
                "wrong result",
            ],
            ErrorKind::FailedCheck,
        ),
        (
            &[
                "timeout",
                "timed out",
                "deadlock",
                "infinite loop",
                "hangs",
                "never ends",
                "stuck forever",
            ],
            ErrorKind::Hang,
        ),
    ];
    RULES
        .iter()
        .find(|(markers, _)| markers.iter().any(|m| lower.contains(m)))
        .map(|(_, kind)| *kind)
}

fn topic(lower: &str) -> Option<String> {
    const LEADS: &[&str] = &[
        "difference between ",
        "what is a ",
        "what is an ",
        "what is ",
        "what's a ",
        "what's an ",
        "what's ",
        "what are ",
        "how does ",
        "how do ",
        "why does ",
        "why do ",
        "why is ",
        "explain ",
        "meaning of ",
        "understand ",
    ];
    let (pos, lead) = LEADS
        .iter()
        .filter_map(|lead| lower.find(lead).map(|pos| (pos, *lead)))
        .min_by_key(|(pos, lead)| (*pos, usize::MAX - lead.len()))?;
    let rest = &lower[pos + lead.len()..];
    let end = rest.find(['?', '.', '!', '\n', ',']).unwrap_or(rest.len());
    let mut words: Vec<&str> = rest[..end]
        .split_whitespace()
        .take_while(|w| !matches!(*w, "and" | "or" | "but" | "because" | "so" | "when" | "if"))
        .take(6)
        .collect();
    while let Some(first) = words.first() {
        if matches!(*first, "a" | "an" | "the" | "me" | "to" | "how") {
            words.remove(0);
        } else {
            break;
        }
    }
    if matches!(words.last(), Some(&"work") | Some(&"works") | Some(&"mean")) {
        words.pop();
    }
    let topic = quotable(&words.join(" "));
    (!topic.is_empty()).then_some(topic)
}

fn code_notes(code: &str) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if code.contains(".unwrap()") || code.contains(".expect(") {
        notes.push("There are calls that abort the program when a value is missing (unwrap/expect): is a panic really the right reaction there?");
    }
    if code.contains("TODO") || code.contains("FIXME") {
        notes.push("TODO/FIXME markers are left in: which of them matter for this activity?");
    }
    if code.contains("print(") || code.contains("println!") || code.contains("console.log") {
        notes.push(
            "There is printing in the code: is it part of the behaviour or left-over debugging?",
        );
    }
    if code.lines().any(|l| l.chars().count() > 100) {
        notes.push(
            "Some lines are very long: would a named intermediate value make them easier to read?",
        );
    }
    if code.lines().filter(|l| !l.trim().is_empty()).count() > 40 {
        notes.push("It is a long block: can you name the two or three steps it performs and give each its own function?");
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_error_line_and_its_family() {
        let cues = Cues::read(
            "I get this when I run it:\nerror[E0382]: borrow of moved value: `v`\n --> src/main.rs:7:20",
        );
        assert_eq!(
            cues.error_line.as_deref(),
            Some("error[E0382]: borrow of moved value: 'v'")
        );
        assert_eq!(cues.error_kind, Some(ErrorKind::Ownership));
        assert_eq!(cues.line_ref.as_deref(), Some("line 7"));
    }

    #[test]
    fn picks_the_most_telling_error_line() {
        let cues = Cues::read(
            "It crashes:\nthread 'main' panicked at src/main.rs:12:9:\nindex out of bounds: the len is 3 but the index is 3",
        );
        // The line that names a known kind of error wins.
        assert_eq!(
            cues.error_line.as_deref(),
            Some("index out of bounds: the len is 3 but the index is 3")
        );
        assert_eq!(cues.line_ref.as_deref(), Some("line 12"));
        let cues = Cues::read("thread 'main' panicked at src/lib.rs:2:5:\nstock went negative");
        assert_eq!(
            cues.error_line.as_deref(),
            Some("thread 'main' panicked at src/lib.rs:2:5: stock went negative")
        );
        assert_eq!(cues.error_kind, None);
    }

    #[test]
    fn finds_the_topic_of_a_question() {
        assert_eq!(
            Cues::read("What is a closure in Python?").topic.as_deref(),
            Some("closure in python")
        );
        assert_eq!(
            Cues::read("how does the borrow checker work?")
                .topic
                .as_deref(),
            Some("borrow checker")
        );
        assert_eq!(
            Cues::read("What is a hash map and why is lookup fast?")
                .topic
                .as_deref(),
            Some("hash map")
        );
        assert_eq!(Cues::read("hello there").topic, None);
    }

    #[test]
    fn quotes_are_short_and_free_of_backticks() {
        let long = "`x` ".repeat(100);
        let quoted = quotable(&long);
        assert!(!quoted.contains('`'));
        assert!(quoted.chars().count() <= EXCERPT_CHARS + 1);
    }

    #[test]
    fn spots_code_and_review_points() {
        let cues =
            Cues::read("fn main() {\n    let x = parse().unwrap();\n    println!(\"{x}\");\n}");
        assert!(cues.has_code());
        assert_eq!(cues.code_notes.len(), 2);
    }
}
