//! Candidate runs of a text: the runs of content words between stop words and punctuation,
//! as RAKE defines them, and the n-grams inside them. Shared by the taxonomy and the graph.

use crate::lexicon::{pieces, Piece, StopWords, WordStemmer};

/// Longest word the analyses consider (longer ones are identifiers or garbage).
const MAX_WORD_CHARS: usize = 40;

/// One run of content words in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run<'a> {
    /// Position of each word among all the words of the text.
    pub(crate) positions: Vec<usize>,
    /// The stems of its words.
    pub(crate) stems: Vec<String>,
    /// Its words as written.
    pub(crate) words: Vec<&'a str>,
}

/// An n-gram inside a run: `start..end` indexes the run's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gram {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Run<'_> {
    /// Every n-gram of 1 to `max_words` words, shortest first at each start.
    pub(crate) fn grams(&self, max_words: usize) -> impl Iterator<Item = Gram> + '_ {
        let len = self.stems.len();
        (0..len).flat_map(move |start| {
            (start + 1..=len.min(start + max_words.max(1))).map(move |end| Gram { start, end })
        })
    }

    /// The concept key of an n-gram: its stems joined by `_`.
    pub(crate) fn key(&self, gram: Gram) -> String {
        self.stems[gram.start..gram.end].join("_")
    }

    /// The n-gram as written.
    pub(crate) fn surface(&self, gram: Gram) -> String {
        self.words[gram.start..gram.end].join(" ")
    }
}

/// The candidate runs of `text`.
pub(crate) fn candidate_runs<'a>(
    text: &'a str,
    stop: &StopWords,
    stemmer: &mut WordStemmer,
) -> Vec<Run<'a>> {
    let mut out = Vec::new();
    let mut run = Run {
        positions: Vec::new(),
        stems: Vec::new(),
        words: Vec::new(),
    };
    let mut position = 0usize;
    for piece in pieces(text) {
        match piece {
            Piece::Word(word) => {
                let lower = word.to_lowercase();
                if is_content(&lower, stop) {
                    run.positions.push(position);
                    run.stems.push(stemmer.stem(&lower));
                    run.words.push(word);
                } else {
                    flush(&mut run, &mut out);
                }
                position += 1;
            }
            Piece::Break => flush(&mut run, &mut out),
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Whether the stems of key `inner` appear contiguously in key `outer` (keys are stems
/// joined by `_`).
pub(crate) fn contains_gram(outer: &str, inner: &str) -> bool {
    let outer: Vec<&str> = outer.split('_').collect();
    let inner: Vec<&str> = inner.split('_').collect();
    outer.windows(inner.len()).any(|w| w == inner.as_slice())
}

fn is_content(lower: &str, stop: &StopWords) -> bool {
    let chars = lower.chars().count();
    (2..=MAX_WORD_CHARS).contains(&chars)
        && lower.chars().any(char::is_alphabetic)
        && !stop.contains(lower)
}

fn flush<'a>(run: &mut Run<'a>, out: &mut Vec<Run<'a>>) {
    if !run.words.is_empty() {
        out.push(std::mem::replace(
            run,
            Run {
                positions: Vec::new(),
                stems: Vec::new(),
                words: Vec::new(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_go_between_stop_words_and_punctuation() {
        let stop = StopWords::default();
        let mut stemmer = WordStemmer::new(Some("eng"));
        let runs = candidate_runs(
            "The call stack of a recursive function grows; binary search trees, 42 and x.",
            &stop,
            &mut stemmer,
        );
        let got: Vec<(Vec<usize>, String)> = runs
            .iter()
            .map(|r| {
                let all = Gram {
                    start: 0,
                    end: r.words.len(),
                };
                (r.positions.clone(), r.key(all))
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (vec![1, 2], "call_stack".to_owned()),
                (vec![5, 6, 7], "recurs_function_grow".to_owned()),
                (vec![8, 9, 10], "binari_search_tree".to_owned()),
            ]
        );
        assert_eq!(runs[2].surface(Gram { start: 1, end: 3 }), "search trees");
    }

    #[test]
    fn grams_are_bounded() {
        let stop = StopWords::default();
        let mut stemmer = WordStemmer::new(None);
        let runs = candidate_runs("alpha beta gamma", &stop, &mut stemmer);
        let grams: Vec<String> = runs[0].grams(2).map(|g| runs[0].key(g)).collect();
        assert_eq!(
            grams,
            ["alpha", "alpha_beta", "beta", "beta_gamma", "gamma"]
        );
    }
}
