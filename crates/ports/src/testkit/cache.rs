//! Contract cases of [`ResponseCache`].
//!
//! Each case is a `pub async fn` taking a fresh implementation;
//! [`cache_contract!`](crate::cache_contract) expands to one `#[tokio::test]` per case:
//!
//! ```ignore
//! ainative_ports::cache_contract!(async { Arc::new(InMemoryResponseCache::new(1_000)) });
//! ```
//!
//! The expiry cases poll in real time until the entry is gone (about a third of a second
//! each), since caches keep their own clocks. Every case uses keys of
//! its own, so cases may share one backing store.
//!
//! The cases panic (through `assert!`/`expect`) on failure, as tests do.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use uuid::Uuid;

use crate::ResponseCache;

/// A time to live no case outlives.
const HOUR: Duration = Duration::from_secs(3_600);

/// A key no other case (or earlier run against a shared store) uses.
fn key(label: &str) -> String {
    format!("contract:{label}:{}", Uuid::new_v4().simple())
}

async fn get(cache: &dyn ResponseCache, key: &str) -> Option<String> {
    cache.get(key).await.expect("get")
}

async fn put(cache: &dyn ResponseCache, key: &str, value: &str, ttl: Duration) {
    cache.put(key, value, ttl).await.expect("put");
}

/// Polls until `key` is a miss (every 20 ms, real time: caches keep their own clocks, which a
/// paused Tokio clock cannot move); fails the case after `limit`.
async fn until_gone(cache: &dyn ResponseCache, key: &str, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while get(cache, key).await.is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} still cached {limit:?} later"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A key never put is a miss.
pub async fn cache_miss_is_none(cache: Arc<dyn ResponseCache>) {
    assert_eq!(get(&*cache, &key("never-put")).await, None);
}

/// A value put is returned by the next get, as many times as asked.
pub async fn cache_put_then_get(cache: Arc<dyn ResponseCache>) {
    let k = key("hit");
    put(&*cache, &k, "answer", HOUR).await;
    for _ in 0..3 {
        assert_eq!(get(&*cache, &k).await.as_deref(), Some("answer"));
    }
}

/// A put replaces the earlier value of its key.
pub async fn cache_put_replaces(cache: Arc<dyn ResponseCache>) {
    let k = key("replace");
    put(&*cache, &k, "first", HOUR).await;
    put(&*cache, &k, "second", HOUR).await;
    assert_eq!(get(&*cache, &k).await.as_deref(), Some("second"));
}

/// Keys are independent, including keys that share a prefix.
pub async fn cache_keys_are_independent(cache: Arc<dyn ResponseCache>) {
    let a = key("a");
    let longer = format!("{a}:more");
    put(&*cache, &a, "A", HOUR).await;
    assert_eq!(get(&*cache, &longer).await, None);
    put(&*cache, &longer, "B", HOUR).await;
    assert_eq!(get(&*cache, &a).await.as_deref(), Some("A"));
    assert_eq!(get(&*cache, &longer).await.as_deref(), Some("B"));
}

/// Values come back byte for byte: empty, multi-line JSON, non-ASCII, and large ones.
pub async fn cache_values_round_trip(cache: Arc<dyn ResponseCache>) {
    let large = "Socratic question? ".repeat(10_000);
    let values = [
        String::new(),
        "{\"content\":\"line 1\\nline 2\",\"tokens\":[1,2,3]}\n\r\t".to_owned(),
        "¿Qué es una función recursiva? 函数 🦀 \u{0}".to_owned(),
        large,
    ];
    for value in &values {
        let k = key("value");
        put(&*cache, &k, value, HOUR).await;
        assert_eq!(get(&*cache, &k).await.as_ref(), Some(value));
    }
}

/// An entry is returned until its time to live has passed, then never again.
pub async fn cache_entry_expires_after_its_ttl(cache: Arc<dyn ResponseCache>) {
    let (short, long) = (key("short"), key("long"));
    put(&*cache, &short, "brief", Duration::from_millis(300)).await;
    put(&*cache, &long, "lasting", HOUR).await;
    assert_eq!(get(&*cache, &short).await.as_deref(), Some("brief"));
    until_gone(&*cache, &short, Duration::from_secs(2)).await;
    assert_eq!(get(&*cache, &short).await, None, "gone for good");
    assert_eq!(get(&*cache, &long).await.as_deref(), Some("lasting"));
}

/// A put restarts the time to live with its own `ttl`, longer or shorter.
pub async fn cache_put_restarts_the_ttl(cache: Arc<dyn ResponseCache>) {
    let (extended, shortened) = (key("extended"), key("shortened"));
    put(&*cache, &extended, "v1", Duration::from_millis(300)).await;
    put(&*cache, &extended, "v2", HOUR).await;
    put(&*cache, &shortened, "v1", HOUR).await;
    put(&*cache, &shortened, "v2", Duration::from_millis(300)).await;
    // `extended` was first put (with 300 ms) before `shortened`: had its TTL not restarted,
    // it would be gone by the time `shortened` is.
    until_gone(&*cache, &shortened, Duration::from_secs(2)).await;
    assert_eq!(get(&*cache, &extended).await.as_deref(), Some("v2"));
}

/// A put with a zero time to live leaves nothing cached under its key.
pub async fn cache_zero_ttl_caches_nothing(cache: Arc<dyn ResponseCache>) {
    let (fresh, existing) = (key("fresh"), key("existing"));
    put(&*cache, &fresh, "value", Duration::ZERO).await;
    assert_eq!(get(&*cache, &fresh).await, None);
    put(&*cache, &existing, "value", HOUR).await;
    put(&*cache, &existing, "other", Duration::ZERO).await;
    assert_eq!(get(&*cache, &existing).await, None);
}

/// Concurrent puts and gets of many keys from many tasks all land.
pub async fn cache_parallel_use(cache: Arc<dyn ResponseCache>) {
    let prefix = key("parallel");
    let mut tasks = JoinSet::new();
    for n in 0..50 {
        let (cache, k) = (cache.clone(), format!("{prefix}:{n}"));
        tasks.spawn(async move {
            put(&*cache, &k, &format!("value {n}"), HOUR).await;
            get(&*cache, &k).await
        });
    }
    let found = tasks.join_all().await;
    assert!(found.iter().all(Option::is_some));
    for n in 0..50 {
        let k = format!("{prefix}:{n}");
        assert_eq!(get(&*cache, &k).await, Some(format!("value {n}")));
    }
}

/// Expands to one `#[tokio::test]` per case of this module.
///
/// The argument is an expression (usually an `async` block) whose `.await` yields an `Arc`
/// of an implementation (coerced to `Arc<dyn ResponseCache>`); it is evaluated once per case,
/// so every case gets a fresh instance. The cases run in real time on a multi-thread runtime.
///
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a
/// dev-dependency. Invoke it once per module.
#[macro_export]
macro_rules! cache_contract {
    ($make:expr $(,)?) => {
        $crate::__cache_cases!(
            $make;
            cache_miss_is_none,
            cache_put_then_get,
            cache_put_replaces,
            cache_keys_are_independent,
            cache_values_round_trip,
            cache_entry_expires_after_its_ttl,
            cache_put_restarts_the_ttl,
            cache_zero_ttl_caches_nothing,
            cache_parallel_use,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cache_cases {
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let cache: ::std::sync::Arc<dyn $crate::ResponseCache> = $make.await;
                $crate::testkit::cache::$case(cache).await;
            }
        )*
    };
}
