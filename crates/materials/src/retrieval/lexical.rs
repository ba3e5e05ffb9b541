//! The BM25 index: tantivy in RAM, one document per chunk.
//!
//! Analyser (index and query alike): tantivy's `SimpleTokenizer` (splits on non-alphanumeric
//! characters, Unicode-aware), tokens over 40 bytes dropped, lowercased, ASCII-folded (so a
//! student who types `recursion` finds `recursión`), then the Snowball stemmer of the
//! material's language when there is one. Stop words are kept: BM25's IDF already makes them
//! weigh almost nothing, and lists would drop real terms (Spanish `estado`). Scoring is
//! tantivy's BM25 with k1 = 1.2 and b = 0.75. The query is the OR of its distinct terms
//! (at most [`MAX_QUERY_TERMS`]), never parsed as query syntax, so any prompt is safe.

use std::collections::BTreeSet;

use tantivy::collector::TopDocs;
use tantivy::indexer::NoMergePolicy;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use crate::error::MaterialError;
use crate::lexicon::stemmer_language;

/// Distinct query terms used; the rest of a very long prompt is ignored.
pub const MAX_QUERY_TERMS: usize = 128;
const TOKENIZER: &str = "material";
/// Tantivy's smallest indexing budget (15 MB); the arena grows only as needed.
const WRITER_MEMORY: usize = 15_000_000;

/// A BM25 index over texts, searched by slot (the position of a text in the build input).
pub struct LexicalIndex {
    reader: IndexReader,
    body: Field,
    analyzer: TextAnalyzer,
    analyzer_name: String,
    /// Per segment, document id → slot.
    slots: Vec<Vec<u32>>,
}

impl std::fmt::Debug for LexicalIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexicalIndex")
            .field("analyzer", &self.analyzer_name)
            .field("documents", &self.slots.iter().map(Vec::len).sum::<usize>())
            .finish()
    }
}

/// The analyser of a material of main language `language` (ISO 639-3), with its name
/// (`bm25/spanish`, or `bm25` without a stemmer).
fn analyzer(language: Option<&str>) -> (TextAnalyzer, String) {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match stemmer_language(language) {
        Some(lang) => (
            base.filter(Stemmer::new(lang)).build(),
            format!("bm25/{}", format!("{lang:?}").to_lowercase()),
        ),
        None => (base.build(), "bm25".to_owned()),
    }
}

impl LexicalIndex {
    /// Indexes `texts` (slot = position) with the analyser of `language`.
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        language: Option<&str>,
    ) -> Result<Self, MaterialError> {
        let (analyzer, analyzer_name) = analyzer(language);
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs);
        let body = schema.add_text_field(
            "body",
            TextOptions::default().set_indexing_options(indexing),
        );
        let slot = schema.add_u64_field("slot", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(TOKENIZER, analyzer.clone());
        let mut writer: IndexWriter = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(MaterialError::Index)?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for (i, text) in texts.into_iter().enumerate() {
            writer
                .add_document(doc!(body => text, slot => i as u64))
                .map_err(MaterialError::Index)?;
        }
        writer.commit().map_err(MaterialError::Index)?;
        writer
            .wait_merging_threads()
            .map_err(MaterialError::Index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(MaterialError::Index)?;
        let slots = Self::slot_maps(&reader)?;
        Ok(Self {
            reader,
            body,
            analyzer,
            analyzer_name,
            slots,
        })
    }

    fn slot_maps(reader: &IndexReader) -> Result<Vec<Vec<u32>>, MaterialError> {
        let searcher = reader.searcher();
        let mut maps = Vec::new();
        for segment in searcher.segment_readers() {
            let column = segment
                .fast_fields()
                .u64("slot")
                .map_err(MaterialError::Index)?;
            maps.push(
                (0..segment.max_doc())
                    .map(|doc| {
                        column
                            .first(doc)
                            .and_then(|s| u32::try_from(s).ok())
                            .unwrap_or(u32::MAX)
                    })
                    .collect(),
            );
        }
        Ok(maps)
    }

    /// The analyser's name (`bm25/english`, `bm25/spanish`, `bm25`).
    pub fn analyzer_name(&self) -> &str {
        &self.analyzer_name
    }

    /// Documents indexed.
    pub fn len(&self) -> usize {
        self.slots.iter().map(Vec::len).sum()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The distinct analysed terms of `query`, in order of first appearance.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut seen = BTreeSet::new();
        let mut terms = Vec::new();
        while stream.advance() && terms.len() < MAX_QUERY_TERMS {
            let text = &stream.token().text;
            if seen.insert(text.clone()) {
                terms.push(text.clone());
            }
        }
        terms
    }

    /// The best `limit` slots for `query` with their BM25 scores, best first (ties by slot).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(usize, f32)>, MaterialError> {
        let terms = self.query_terms(query);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let term = Term::from_field_text(self.body, t);
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, query)
            })
            .collect();
        let searcher = self.reader.searcher();
        let top = searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(limit).order_by_score(),
            )
            .map_err(MaterialError::Index)?;
        let mut hits: Vec<(usize, f32)> = top
            .into_iter()
            .filter_map(|(score, address)| {
                let slot = *self
                    .slots
                    .get(address.segment_ord as usize)?
                    .get(address.doc_id as usize)?;
                (slot != u32::MAX).then_some((slot as usize, score))
            })
            .collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(hits)
    }
}
