//! The [`MaterialRetriever`] port over a cache of built indexes.
//!
//! An index is keyed by `(activity id, corpus version)`: the storage adapter's
//! [`MaterialCorpus::version`] changes whenever a material of the activity completes,
//! is re-processed or is deleted, so a changed corpus is simply a new key and the old entry
//! is never read again and ages out (idle timeout, size bound). Concurrent first requests
//! for one key build the index once (moka coalesces them). Each server or worker process
//! holds its own cache: nothing to invalidate across instances.

use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{
    error_chain, Embedder, MaterialCorpus, MaterialRetriever, PortError, PortResult,
    RetrievalBudget, RetrievedPassage,
};
use async_trait::async_trait;
use moka::future::Cache;
use uuid::Uuid;

use super::RetrievalIndex;

/// Bounds of the index cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrieverSettings {
    /// Most chunks held in all cached indexes (default 200,000: a few hundred MB at most).
    pub max_cached_chunks: u64,
    /// An index not used for this long is dropped (default 30 minutes).
    pub idle: Duration,
    /// How long an activity's corpus version is believed without asking storage again
    /// (default 5 s; zero asks on every call). Activities without material then cost no
    /// query per turn; this process forgets an activity at once through
    /// [`CachedRetriever::forget`], other processes within this time.
    pub version_ttl: Duration,
}

impl Default for RetrieverSettings {
    fn default() -> Self {
        Self {
            max_cached_chunks: 200_000,
            idle: Duration::from_secs(30 * 60),
            version_ttl: Duration::from_secs(5),
        }
    }
}

/// Retrieves passages from per-activity indexes built once per corpus version.
pub struct CachedRetriever {
    corpus: Arc<dyn MaterialCorpus>,
    embedder: Option<Arc<dyn Embedder>>,
    indexes: Cache<(Uuid, String), Arc<RetrievalIndex>>,
    /// Recent corpus versions by activity (`None`: no processed material); absent when
    /// `version_ttl` is zero.
    versions: Option<moka::sync::Cache<Uuid, Option<String>>>,
}

impl std::fmt::Debug for CachedRetriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedRetriever")
            .field("cached_indexes", &self.indexes.entry_count())
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.model().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

impl CachedRetriever {
    /// A retriever reading corpora from `corpus`. With an `embedder`, activities whose
    /// vectors come from the same model are searched by cosine similarity (BM25 when the
    /// query cannot be embedded); otherwise by BM25.
    pub fn new(
        corpus: Arc<dyn MaterialCorpus>,
        embedder: Option<Arc<dyn Embedder>>,
        settings: RetrieverSettings,
    ) -> Self {
        let indexes = Cache::builder()
            .max_capacity(settings.max_cached_chunks)
            .weigher(|_, index: &Arc<RetrievalIndex>| {
                u32::try_from(index.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(1)
            })
            .time_to_idle(settings.idle)
            .build();
        let versions = (!settings.version_ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(settings.version_ttl)
                .build()
        });
        Self {
            corpus,
            embedder,
            indexes,
            versions,
        }
    }

    /// Forgets the corpus version of `activity_id`, so the next call asks storage (call it
    /// when a material of the activity completes or is deleted; it takes effect at once).
    pub fn forget(&self, activity_id: Uuid) {
        if let Some(versions) = &self.versions {
            versions.invalidate(&activity_id);
        }
    }

    async fn version(&self, activity_id: Uuid) -> PortResult<Option<String>> {
        let Some(versions) = &self.versions else {
            return self.corpus.version(activity_id).await;
        };
        if let Some(version) = versions.get(&activity_id) {
            return Ok(version);
        }
        let version = self.corpus.version(activity_id).await?;
        versions.insert(activity_id, version.clone());
        Ok(version)
    }

    /// The index of `activity_id` at its current version (built on first use); `None` when
    /// the activity has no processed material.
    ///
    /// Errors: those of the [`MaterialCorpus`]; [`PortError::Other`] when the index cannot be
    /// built.
    pub async fn index(&self, activity_id: Uuid) -> PortResult<Option<Arc<RetrievalIndex>>> {
        let Some(version) = self.version(activity_id).await? else {
            return Ok(None);
        };
        let corpus = Arc::clone(&self.corpus);
        let built = self
            .indexes
            .try_get_with((activity_id, version), async move {
                let corpus = corpus.load(activity_id).await?;
                let index = tokio::task::spawn_blocking(move || RetrievalIndex::build(corpus))
                    .await
                    .map_err(|e| PortError::other_from("the index build task failed", e))?
                    .map_err(|e| {
                        PortError::other_from("the retrieval index could not be built", e)
                    })?;
                Ok::<_, PortError>(Arc::new(index))
            })
            .await
            .map_err(|e: Arc<PortError>| (*e).clone())?;
        Ok(Some(built))
    }

    /// Indexes currently cached.
    pub fn cached_indexes(&self) -> u64 {
        self.indexes.entry_count()
    }

    async fn search_vectors(
        &self,
        index: &RetrievalIndex,
        query: &str,
        budget: RetrievalBudget,
    ) -> Option<Vec<RetrievedPassage>> {
        let embedder = self.embedder.as_ref()?;
        if index.vector_model() != Some(embedder.model()) {
            return None;
        }
        match embedder.embed(&[query.to_owned()]).await {
            Ok(vectors) => index.search_vector(vectors.first()?, budget),
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "the query could not be embedded; using BM25");
                None
            }
        }
    }
}

#[async_trait]
impl MaterialRetriever for CachedRetriever {
    async fn retrieve(
        &self,
        activity_id: Uuid,
        query: &str,
        budget: RetrievalBudget,
    ) -> PortResult<Vec<RetrievedPassage>> {
        let Some(index) = self.index(activity_id).await? else {
            return Ok(Vec::new());
        };
        if let Some(found) = self.search_vectors(&index, query, budget).await {
            return Ok(found);
        }
        index
            .search_lexical(query, budget)
            .map_err(|e| PortError::other_from("the BM25 search failed", e))
    }
}
