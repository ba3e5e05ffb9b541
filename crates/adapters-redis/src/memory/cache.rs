//! [`InMemoryResponseCache`]: the LLM response cache held in this process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_ports::{PortResult, ResponseCache};
use async_trait::async_trait;
use moka::sync::Cache;
use moka::Expiry;

/// How many entries the cache keeps by default (`CACHE_MAX_ENTRIES`).
pub const DEFAULT_CACHE_MAX_ENTRIES: u64 = 10_000;

/// A bounded in-process cache of responses, each entry with its own time to live.
///
/// - An entry is returned until its `ttl` has passed since it was put, then never again.
/// - A put replaces any earlier value of the key and restarts its time to live; a put with
///   a zero `ttl` leaves nothing cached under the key.
/// - At most `max_entries` entries are kept (least recently and least frequently used
///   evicted first).
/// - Never fails. It holds per process only; the Redis cache shares entries between
///   instances. Clones share their entries.
/// - Time is the cache's own monotonic clock (not Tokio's), so tests wait in real time.
#[derive(Clone)]
pub struct InMemoryResponseCache {
    entries: Cache<String, Entry>,
}

#[derive(Clone)]
struct Entry {
    value: Arc<str>,
    ttl: Duration,
}

/// Expires each entry `ttl` after it was (last) put; reads do not extend it.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl InMemoryResponseCache {
    /// A cache keeping at most `max_entries` entries.
    pub fn new(max_entries: u64) -> Self {
        Self {
            entries: Cache::builder()
                .name("response_cache")
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
        }
    }
}

impl Default for InMemoryResponseCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_MAX_ENTRIES)
    }
}

impl std::fmt::Debug for InMemoryResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryResponseCache")
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ResponseCache for InMemoryResponseCache {
    async fn get(&self, key: &str) -> PortResult<Option<String>> {
        Ok(self.entries.get(key).map(|entry| entry.value.to_string()))
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> PortResult<()> {
        if ttl.is_zero() {
            self.entries.invalidate(key);
        } else {
            let entry = Entry {
                value: Arc::from(value),
                ttl,
            };
            self.entries.insert(key.to_owned(), entry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_number_of_entries_is_bounded() {
        let cache = InMemoryResponseCache::new(50);
        for n in 0..500 {
            cache
                .put(&format!("key-{n}"), "value", Duration::from_secs(60))
                .await
                .expect("put");
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() <= 50);
    }
}
