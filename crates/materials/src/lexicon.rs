//! Words: stop words (English and Spanish), the word splitter of the analyses, and stemming
//! by the material's language.

use std::collections::{HashMap, HashSet};

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, TextAnalyzer,
};

/// Words added to the NLTK lists: discourse words frequent in course text that never name a
/// concept, and keywords of common programming languages (code is part of course material).
const EXTRA_STOP_WORDS: &[&str] = &[
    // English
    "also",
    "however",
    "may",
    "might",
    "must",
    "can",
    "could",
    "would",
    "shall",
    "will",
    "e.g",
    "i.e",
    "eg",
    "ie",
    "etc",
    "one",
    "two",
    "three",
    "first",
    "second",
    "many",
    "much",
    "every",
    "often",
    "like",
    "well",
    "see",
    "get",
    "gets",
    "make",
    "makes",
    "made",
    "let",
    "us",
    "yet",
    "thus",
    "therefore",
    "hence",
    "since",
    "though",
    "although",
    "whether",
    "either",
    "neither",
    "within",
    "without",
    "upon",
    "via",
    "per",
    "always",
    "never",
    "usually",
    "instead",
    "rather",
    "even",
    "still",
    "already",
    "next",
    "last",
    "whose",
    "another",
    "others",
    "example",
    "examples",
    "way",
    "ways",
    "thing",
    "things",
    "something",
    "anything",
    "everything",
    "lot",
    "lots",
    "kind",
    "kinds",
    "need",
    "needs",
    "called",
    "given",
    "gives",
    "take",
    "takes",
    "use",
    "used",
    "uses",
    "using",
    // Spanish
    "además",
    "embargo",
    "puede",
    "pueden",
    "podemos",
    "debe",
    "deben",
    "cada",
    "así",
    "aunque",
    "sino",
    "mientras",
    "luego",
    "entonces",
    "después",
    "siempre",
    "nunca",
    "ejemplo",
    "ejemplos",
    "forma",
    "manera",
    "vez",
    "veces",
    "solo",
    "sólo",
    "tan",
    "tal",
    "dos",
    "tres",
    "primero",
    "primera",
    "segundo",
    "segunda",
    "cómo",
    "dónde",
    "cuándo",
    "cuál",
    "cuáles",
    "mismo",
    "misma",
    "mismos",
    "mismas",
    "hacia",
    "según",
    "toda",
    "todas",
    "cualquier",
    "debido",
    "ello",
    "aquí",
    "allí",
    "ahí",
    "bien",
    "hace",
    "hacer",
    "dentro",
    "bastante",
    "usar",
    "usa",
    "uso",
    "usando",
    "llama",
    "llamada",
    "llaman",
    // Code keywords that never name a concept in prose ("function", "class" or "return" do)
    "def",
    "elif",
    "self",
    "none",
    "null",
    "mut",
    "fn",
    "pub",
    "println",
    "printf",
    "len",
    "str",
    "int",
    "void",
    "var",
    "true",
    "false",
];

/// NLTK Spanish stop words that name concepts in course material ("estado" is "state").
const KEPT_WORDS: &[&str] = &[
    "estado", "estados", "estada", "estadas", "sentido", "sentidos", "sentida", "sentidas",
];

/// The stop words of the analyses: NLTK English ∪ NLTK Spanish ∪ [`EXTRA_STOP_WORDS`], less
/// [`KEPT_WORDS`]; lowercase. One list for both languages because material mixes them
/// (Spanish prose, English code and terms).
#[derive(Debug, Clone)]
pub(crate) struct StopWords {
    words: HashSet<String>,
}

impl Default for StopWords {
    fn default() -> Self {
        let nltk = ["en", "es"]
            .iter()
            .filter_map(|code| stop_words::lookup(*code))
            .flat_map(|list| list.iter().copied());
        let words = nltk
            .chain(EXTRA_STOP_WORDS.iter().copied())
            .filter(|w| !KEPT_WORDS.contains(w))
            .map(str::to_lowercase)
            .collect();
        Self { words }
    }
}

impl StopWords {
    pub(crate) fn contains(&self, lowercase_word: &str) -> bool {
        self.words.contains(lowercase_word)
    }
}

/// A piece of text as the analyses see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// A word: letters, digits and `_`, with inner `-` or apostrophes (`n-gram`, `don't`).
    Word(&'a str),
    /// Punctuation, a symbol or a line break: ends a phrase.
    Break,
}

/// Splits `text` into words and phrase breaks (spaces and tabs separate words without
/// breaking a phrase).
pub(crate) fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let joins = matches!(c, '-' | '\'' | '’')
            && start.is_some()
            && chars
                .get(i + 1)
                .is_some_and(|(_, next)| next.is_alphanumeric());
        if c.is_alphanumeric() || c == '_' || joins {
            start.get_or_insert(at);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(Piece::Word(&text[s..at]));
        }
        if !(c == ' ' || c == '\t') && out.last() != Some(&Piece::Break) {
            out.push(Piece::Break);
        }
    }
    if let Some(s) = start {
        out.push(Piece::Word(&text[s..]));
    }
    out
}

/// The Snowball stemmer of an ISO 639-3 language, if there is one.
pub(crate) fn stemmer_language(iso639_3: Option<&str>) -> Option<Language> {
    Some(match iso639_3? {
        "eng" => Language::English,
        "spa" => Language::Spanish,
        "fra" => Language::French,
        "deu" => Language::German,
        "ita" => Language::Italian,
        "por" => Language::Portuguese,
        "nld" => Language::Dutch,
        "dan" => Language::Danish,
        "fin" => Language::Finnish,
        "hun" => Language::Hungarian,
        "nob" => Language::Norwegian,
        "ron" => Language::Romanian,
        "rus" => Language::Russian,
        "swe" => Language::Swedish,
        "tur" => Language::Turkish,
        "ell" => Language::Greek,
        "ara" => Language::Arabic,
        "tam" => Language::Tamil,
        _ => return None,
    })
}

/// Lowercases, stems (by the material's language) and ASCII-folds words, memoised: a
/// material repeats its words a lot.
pub(crate) struct WordStemmer {
    analyzer: TextAnalyzer,
    memo: HashMap<String, String>,
}

impl WordStemmer {
    pub(crate) fn new(language: Option<&str>) -> Self {
        let builder = TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser);
        let analyzer = match stemmer_language(language) {
            Some(lang) => builder
                .filter(Stemmer::new(lang))
                .filter(AsciiFoldingFilter)
                .build(),
            None => builder.filter(AsciiFoldingFilter).build(),
        };
        Self {
            analyzer,
            memo: HashMap::new(),
        }
    }

    /// The stem of `word`.
    pub(crate) fn stem(&mut self, word: &str) -> String {
        if let Some(stem) = self.memo.get(word) {
            return stem.clone();
        }
        let mut stream = self.analyzer.token_stream(word);
        let stem = if stream.advance() {
            stream.token().text.clone()
        } else {
            word.to_lowercase()
        };
        self.memo.insert(word.to_owned(), stem.clone());
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_cover_english_spanish_and_code() {
        let stop = StopWords::default();
        for w in ["the", "however", "de", "también", "def", "elif"] {
            assert!(stop.contains(w), "{w}");
        }
        for w in [
            "recursion",
            "recursión",
            "estado",
            "stack",
            "pila",
            "function",
            "class",
        ] {
            assert!(!stop.contains(w), "{w}");
        }
    }

    #[test]
    fn pieces_split_words_and_breaks() {
        use Piece::*;
        assert_eq!(
            pieces("Don't stop: n-gram models, snake_case\nnext -- end"),
            vec![
                Word("Don't"),
                Word("stop"),
                Break,
                Word("n-gram"),
                Word("models"),
                Break,
                Word("snake_case"),
                Break,
                Word("next"),
                Break,
                Word("end"),
            ]
        );
        assert_eq!(
            pieces("¿Qué es?"),
            vec![Break, Word("Qué"), Word("es"), Break]
        );
    }

    #[test]
    fn stems_follow_the_language_and_fold_accents() {
        let mut en = WordStemmer::new(Some("eng"));
        assert_eq!(en.stem("Functions"), en.stem("function"));
        let mut es = WordStemmer::new(Some("spa"));
        assert_eq!(es.stem("funciones"), es.stem("función"));
        assert!(es.stem("recursión").is_ascii());
        let mut none = WordStemmer::new(None);
        assert_eq!(none.stem("Árboles"), "arboles");
    }
}
