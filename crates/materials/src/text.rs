//! Token counting and text normalisation shared by the stages.

use unicode_normalization::UnicodeNormalization;

/// Tokens of `text` as the project counts them: whitespace-separated words (the same rule as
/// `ainative_ai_gateway::llm::estimate_tokens`, so chunk sizes and retrieval budgets add up
/// with the gateway's prompt budget).
pub fn count_tokens(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// Unicode compatibility forms turn ligatures (`ﬁ`) and presentation forms into plain
/// letters; used for PDF text, where they are common and never meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Canonical,
    Compatibility,
}

/// Normalises extracted text: no BOM, `\n` line ends, NFC (or NFKC), no control or
/// invisible characters (zero-width spaces, soft hyphens), non-breaking spaces as spaces,
/// no trailing spaces, at most one blank line in a row.
pub(crate) fn normalise(text: &str, form: Form) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let composed: String = match form {
        Form::Canonical => text.nfc().collect(),
        Form::Compatibility => text.nfkc().collect(),
    };
    let mut out = String::with_capacity(composed.len());
    let mut blank_lines = 0usize;
    let lines = composed.split('\n');
    for line in lines {
        let cleaned: String = line
            .chars()
            .filter_map(|c| match c {
                '\r' | '\u{ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}'
                | '\u{feff}' => None,
                '\u{a0}' | '\u{2007}' | '\u{202f}' => Some(' '),
                '\t' => Some('\t'),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        let cleaned = cleaned.trim_end();
        if cleaned.trim().is_empty() {
            blank_lines += 1;
            if blank_lines > 1 {
                continue;
            }
            out.push('\n');
        } else {
            blank_lines = 0;
            out.push_str(cleaned);
            out.push('\n');
        }
    }
    out.trim_matches('\n').to_owned()
}

/// `text` with every run of whitespace (line breaks included) turned into one space.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_whitespace_words() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("  one\ttwo\nthree  "), 3);
    }

    #[test]
    fn normalise_cleans_what_extraction_leaves() {
        let raw = "\u{feff}Cafe\u{301} na\u{ad}ive\r\nline\u{200b}two   \n\n\n\n\u{a0}next\u{7}";
        assert_eq!(
            normalise(raw, Form::Canonical),
            "Caf\u{e9} naive\nlinetwo\n\n next"
        );
        assert_eq!(
            normalise("e\u{fb03}cient", Form::Compatibility),
            "efficient"
        );
        assert_eq!(
            normalise("e\u{fb01}cient", Form::Canonical),
            "e\u{fb01}cient"
        );
    }

    #[test]
    fn collapse_joins_lines() {
        assert_eq!(collapse_whitespace(" a\n b\t\tc "), "a b c");
    }
}
