//! [`MaterialCorpus`]: the kept chunks of an activity's completed materials.

use std::collections::HashMap;

use ainative_domain::{ChunkVector, EmbeddingKind};
use ainative_ports::{Corpus, CorpusChunk, MaterialCorpus, PortResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::columns::Columns;
use crate::dialect::Dialect;
use crate::statement::Stmt;
use crate::store::SqlStore;

/// One kept chunk with what its material says about the corpus.
struct Row {
    chunk: CorpusChunk,
    vector: Option<Vec<f32>>,
    language: Option<String>,
    embedding_kind: Option<String>,
    embedding_model: Option<String>,
}

fn row<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Row> {
    Ok(Row {
        chunk: CorpusChunk {
            material_id: c.uuid()?,
            chunk_id: c.id()?,
            section: c.get()?,
            text: c.get()?,
            tokens: c.small("tokens")?,
        },
        vector: c.json()?,
        language: c.get()?,
        embedding_kind: c.get()?,
        embedding_model: c.get()?,
    })
}

/// The corpus of rows in material order: the most common language, and vectors only when
/// every chunk has one of the same model.
fn corpus_of(rows: Vec<Row>) -> Corpus {
    let mut languages: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        if let Some(language) = &row.language {
            *languages.entry(language.clone()).or_default() += 1;
        }
    }
    let language = languages
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(language, _)| language);
    let vector = EmbeddingKind::Vector.as_str();
    let model = rows.first().and_then(|r| r.embedding_model.clone());
    let all_vectors = !rows.is_empty()
        && rows.iter().all(|r| {
            r.vector.is_some()
                && r.embedding_kind.as_deref() == Some(vector)
                && r.embedding_model == model
        });
    let mut corpus = Corpus {
        language,
        vector_model: if all_vectors { model } else { None },
        ..Corpus::default()
    };
    for row in rows {
        if all_vectors {
            if let Some(vector) = row.vector {
                corpus.vectors.push(ChunkVector {
                    chunk_id: row.chunk.chunk_id,
                    vector,
                });
            }
        }
        corpus.chunks.push(row.chunk);
    }
    corpus
}

#[async_trait]
impl<D: Dialect> MaterialCorpus for SqlStore<D> {
    async fn version(&self, activity_id: Uuid) -> PortResult<Option<String>> {
        // Deleting a completed material lowers the count; completing or re-processing one
        // moves the latest `updated_at`.
        let q = Stmt::<D>::new(
            "SELECT COUNT(*), MAX(updated_at) FROM materials \
             WHERE activity_id = $1 AND status = 'completed'",
        )
        .bind(activity_id);
        self.call("materials.corpus_version", async {
            let row = q.fetch_one(&mut *self.conn().await?).await?;
            let mut c = Columns::<D>::new(&row, "corpus version");
            let count: i64 = c.get()?;
            let latest: Option<DateTime<Utc>> = c.get()?;
            Ok(match (count, latest) {
                (0, _) | (_, None) => None,
                (count, Some(latest)) => Some(format!("{count}:{}", latest.timestamp_micros())),
            })
        })
        .await
    }

    async fn load(&self, activity_id: Uuid) -> PortResult<Corpus> {
        let q = Stmt::new(
            "SELECT c.material_id, c.id, c.section, c.text, c.tokens, c.vector, m.language, \
             m.embedding_kind, m.embedding_model FROM material_chunks c \
             JOIN materials m ON m.id = c.material_id \
             WHERE m.activity_id = $1 AND m.status = 'completed' AND c.kept \
             ORDER BY m.created_at, m.id, c.ordinal",
        )
        .bind(activity_id);
        self.call("materials.corpus_load", async {
            let rows = self.all(q, "corpus chunk", row::<D>).await?;
            Ok(corpus_of(rows))
        })
        .await
    }
}
