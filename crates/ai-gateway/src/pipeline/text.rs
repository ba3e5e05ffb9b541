//! Text helpers shared by the rule-based pipeline steps.
//!
//! Rules match *phrases* on a folded form of the text: lower-cased, Spanish accents removed
//! (`resuélvelo` → `resuelvelo`, `código` → `codigo`), every run of characters that are not
//! letters or digits turned into one space, padded with a space on each side. A phrase
//! `"give me the"` then matches `" give me the "` on word boundaries, so `why` does not match
//! inside `anywhere`. A phrase ending in `*` matches a word prefix (`"resuelv*"` matches
//! `resuélvelo`, `resuelve`, …).

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

/// Text folded for phrase matching (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded(String);

impl Folded {
    /// Folds `text`.
    pub fn new(text: &str) -> Self {
        let mut out = String::with_capacity(text.len() + 2);
        out.push(' ');
        let mut last_space = true;
        for c in text.chars().flat_map(char::to_lowercase) {
            let c = fold_accent(c);
            if c.is_alphanumeric() {
                out.push(c);
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        }
        if !last_space {
            out.push(' ');
        }
        Self(out)
    }

    /// The folded text, padded with spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the folded text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Whether `phrase` (folded the same way; `*` at the end for a prefix) occurs.
    pub fn has(&self, phrase: &str) -> bool {
        let Some((needle, prefix)) = needle(phrase) else {
            return false;
        };
        let needle = needle.as_str();
        // The text is padded with spaces: a word starts after one, and ends before one.
        let text = self.0.as_bytes();
        self.0.match_indices(needle).any(|(at, _)| {
            let end = at + needle.len();
            at > 0 && text[at - 1] == b' ' && (prefix || text.get(end) == Some(&b' '))
        })
    }

    /// The first of `phrases` (in their list's order) that occurs.
    pub fn first_of(&self, phrases: &Phrases) -> Option<&'static str> {
        match phrases.matcher() {
            Some(matcher) => matcher
                .automaton
                .find_overlapping_iter(self.0.as_str())
                .map(|m| matcher.phrase_of[m.pattern().as_usize()])
                .min()
                .map(|i| phrases.list[i]),
            None => phrases.list.iter().copied().find(|p| self.has(p)),
        }
    }

    /// Whether any of `phrases` occurs.
    pub fn has_any(&self, phrases: &Phrases) -> bool {
        match phrases.matcher() {
            Some(matcher) => matcher.automaton.is_match(self.0.as_str()),
            None => self.first_of(phrases).is_some(),
        }
    }

    /// The words of the folded text.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split_whitespace()
    }
}

/// A list of phrases as [`Folded::has`] reads them, matched all at once: one pass over the
/// text instead of one search per phrase (the lists are searched on every turn).
pub struct Phrases {
    list: &'static [&'static str],
    matcher: OnceLock<Option<Matcher>>,
}

/// The automaton of a [`Phrases`] list and, per pattern, the index of its phrase.
struct Matcher {
    automaton: AhoCorasick,
    phrase_of: Vec<usize>,
}

impl Phrases {
    /// The list; its automaton is built on first use.
    pub const fn new(list: &'static [&'static str]) -> Self {
        Self {
            list,
            matcher: OnceLock::new(),
        }
    }

    /// The phrases, in their order.
    pub fn list(&self) -> &'static [&'static str] {
        self.list
    }

    /// `None` only if the automaton cannot be built (it can for any list of this size); the
    /// phrases are then searched one by one.
    fn matcher(&self) -> Option<&Matcher> {
        self.matcher
            .get_or_init(|| {
                // A phrase matches where its folded form occurs between spaces (a prefix
                // phrase: after one), and the text is padded with spaces: so the pattern is
                // the phrase with those spaces, and every match counts.
                let (patterns, phrase_of): (Vec<String>, Vec<usize>) = self
                    .list
                    .iter()
                    .enumerate()
                    .filter_map(|(i, phrase)| {
                        let (needle, prefix) = needle(phrase)?;
                        let end = if prefix { "" } else { " " };
                        Some((format!(" {needle}{end}"), i))
                    })
                    .unzip();
                let automaton = AhoCorasick::new(&patterns).ok()?;
                Some(Matcher {
                    automaton,
                    phrase_of,
                })
            })
            .as_ref()
    }
}

impl std::fmt::Debug for Phrases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list).finish()
    }
}

/// A phrase's folded words, unpadded, and whether it is a word prefix (a trailing `*`);
/// `None` for a phrase without words, which matches nothing.
fn needle(phrase: &str) -> Option<(String, bool)> {
    let (body, prefix) = match phrase.strip_suffix('*') {
        Some(body) => (body, true),
        None => (phrase, false),
    };
    let folded = Folded::new(body);
    let words = folded.0.trim();
    (!words.is_empty()).then(|| (words.to_owned(), prefix))
}

/// Removes the accents of Spanish (and common Latin) letters; `ñ` is kept.
fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        other => other,
    }
}

/// Whether a prompt is phrased as a question: a `?`/`¿`, or it starts with a question word.
pub fn is_question(text: &str) -> bool {
    if text.contains('?') || text.contains('¿') {
        return true;
    }
    let folded = Folded::new(text);
    let first = folded.words().next().unwrap_or_default();
    QUESTION_STARTS.contains(&first)
}

const QUESTION_STARTS: &[&str] = &[
    "what", "why", "how", "when", "where", "which", "who", "can", "could", "should", "is", "are",
    "does", "do", "would", "que", "por", "como", "cuando", "donde", "cual", "cuales", "quien",
    "puedo", "puedes", "deberia", "es",
];

/// Phrases that justify a statement or explain what the student tried (EN/ES).
pub static JUSTIFICATION_PHRASES: Phrases = Phrases::new(&[
    "because",
    "since",
    "so that",
    "in order to",
    "the reason",
    "i think",
    "i believe",
    "i chose",
    "i decided",
    "my approach",
    "my idea",
    "i tried",
    "i ve tried",
    "i have tried",
    "porque",
    "ya que",
    "puesto que",
    "para que",
    "creo que",
    "pienso que",
    "elegi",
    "decidi",
    "mi enfoque",
    "mi idea",
    "intente",
    "he intentado",
    "probe",
    "he probado",
]);

/// Whether the text justifies itself or explains an attempt.
pub fn has_justification(text: &str) -> bool {
    Folded::new(text).has_any(&JUSTIFICATION_PHRASES)
}

/// Whether the text is most likely Spanish (accents, `¿`/`¡`/`ñ`, or more Spanish than
/// English function words).
pub fn looks_spanish(text: &str) -> bool {
    if text.chars().any(|c| "¿¡ñáéíóú".contains(c)) {
        return true;
    }
    let folded = Folded::new(text);
    let (mut es, mut en) = (0usize, 0usize);
    for word in folded.words() {
        if SPANISH_WORDS.contains(&word) {
            es += 1;
        }
        if ENGLISH_WORDS.contains(&word) {
            en += 1;
        }
    }
    es > en
}

const SPANISH_WORDS: &[&str] = &[
    "el", "la", "los", "las", "que", "de", "del", "por", "para", "con", "una", "un", "mi", "es",
    "no", "como", "codigo", "funcion", "esto", "pero", "y",
];
const ENGLISH_WORDS: &[&str] = &[
    "the", "a", "an", "is", "are", "of", "to", "for", "with", "my", "it", "this", "how", "what",
    "and", "but", "code", "function", "i",
];

/// Characters of `text` inside Markdown code fences (```), a sign of pasted code.
pub fn fenced_code_chars(text: &str) -> usize {
    text.split("```")
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, block)| block.chars().count())
        .sum()
}

/// Whether `text` contains code: a fence, or several lines that look like code.
pub fn contains_code(text: &str) -> bool {
    if text.contains("```") {
        return true;
    }
    let code_lines = text
        .lines()
        .filter(|line| {
            let t = line.trim();
            t.ends_with(';')
                || t.ends_with('{')
                || t.ends_with("):")
                || t.starts_with("def ")
                || t.starts_with("fn ")
                || t.starts_with("for ")
                || t.starts_with("return ")
                || t.starts_with("import ")
        })
        .count();
    code_lines >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_on_word_boundaries_after_folding() {
        let f = Folded::new("¿Por qué NO funciona? Resuélvelo, ¡ya!");
        assert!(f.has("por que"));
        assert!(f.has("no funciona"));
        assert!(f.has("resuelv*"));
        assert!(!f.has("resuelv"));
        assert!(!Folded::new("anywhere").has("where"));
        assert!(!f.has(""));
    }

    /// `has` written the plain way (fold the phrase, pad it, search): the reference.
    fn has_by_folding(text: &Folded, phrase: &str) -> bool {
        let (body, prefix) = match phrase.strip_suffix('*') {
            Some(body) => (body, true),
            None => (phrase, false),
        };
        let needle = Folded::new(body);
        let needle = needle.0.trim_end();
        if needle.trim().is_empty() {
            return false;
        }
        if prefix {
            text.0.contains(needle)
        } else {
            text.0.contains(&format!("{needle} "))
        }
    }

    /// Texts around the phrases of [`MIXED`]: inside words, across punctuation, accents.
    const TEXTS: &[&str] = &[
        "anywhere where it is",
        "console, then solve it",
        "the console",
        "Por qué no funciona, ¿por qué?",
        "i ve tried twice; I've tried",
        "",
        "  ",
        "x1 x12",
        "Resuélvelo: it is where x is",
        "nothing here",
    ];

    /// Phrases of every shape `has` reads: folded, to be folded, prefixes, overlapping,
    /// and ones that can never match.
    static MIXED: Phrases = Phrases::new(&[
        "where",
        "sol*",
        "solve",
        "por que",
        "Por Qué",
        "i ve tried",
        "x1",
        "x1*",
        "x",
        "",
        " where",
        "where ",
        "it  is",
        "*",
        "tried",
        "it is",
        "resuelv*",
    ]);

    #[test]
    fn folded_phrases_match_as_folding_them_would() {
        for text in TEXTS {
            let folded = Folded::new(text);
            for phrase in MIXED.list() {
                assert_eq!(
                    folded.has(phrase),
                    has_by_folding(&folded, phrase),
                    "{phrase:?} in {text:?}"
                );
            }
        }
        assert!(Folded::new("anywhere where").has("where"));
        assert!(!Folded::new("the console").has("sol*"));
    }

    #[test]
    fn a_phrase_list_matches_as_its_phrases_one_by_one() {
        for text in TEXTS {
            let folded = Folded::new(text);
            let one_by_one = MIXED.list().iter().copied().find(|p| folded.has(p));
            assert_eq!(folded.first_of(&MIXED), one_by_one, "{text:?}");
            assert_eq!(folded.has_any(&MIXED), one_by_one.is_some(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_texts_match_as_the_phrases_one_by_one(
            words in proptest::collection::vec(
                (
                    proptest::sample::select(&[
                        "where", "anywhere", "sol", "solve", "Solución", "por", "qué", "que",
                        "I", "ve", "I've", "tried", "x1", "x12", "x", "it", "is", "Resuélvelo",
                        "console", "zz",
                    ][..]),
                    proptest::sample::select(&[" ", ", ", "  ", "? ", "-", ""][..]),
                ),
                0..12,
            ),
        ) {
            let text: String = words.iter().flat_map(|(w, sep)| [*w, *sep]).collect();
            let folded = Folded::new(&text);
            let one_by_one = MIXED.list().iter().copied().find(|p| folded.has(p));
            proptest::prop_assert_eq!(folded.first_of(&MIXED), one_by_one);
            proptest::prop_assert_eq!(folded.has_any(&MIXED), one_by_one.is_some());
        }
    }

    #[test]
    fn questions_and_justifications() {
        assert!(is_question("what is a loop"));
        assert!(is_question("¿qué es un bucle"));
        assert!(!is_question("Here is my loop."));
        assert!(has_justification("I used a map because lookups are O(1)"));
        assert!(has_justification("Intenté usar un diccionario"));
        assert!(!has_justification("Here is my code."));
    }

    #[test]
    fn language_and_code_detection() {
        assert!(looks_spanish("no entiendo el bucle"));
        assert!(!looks_spanish("I do not understand the loop"));
        assert_eq!(fenced_code_chars("a ```abc``` b ```de```"), 5);
        assert!(contains_code("```py\nx=1\n```"));
        assert!(contains_code("def f(x):\n    return x\n"));
        assert!(!contains_code("Think about the loop bounds."));
    }
}
