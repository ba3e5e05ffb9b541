//! [`RedisPool`]: bounded, fail-fast access to Redis.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_ports::{PortError, PortResult};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig, RedisError};
use deadpool_redis::{Manager, Pool, Runtime};

use super::settings::{RedisSettings, RedisSetupError};

/// Connections to one Redis, shared by every Redis-backed port of an instance.
///
/// - A deadpool-redis pool creates the connections, bounded by the settings' timeout
///   (connecting, waiting for a pool slot and the first response alike), so an unreachable
///   Redis fails fast instead of hanging a request.
/// - Each created connection is *multiplexed* (many concurrent commands pipelined on one
///   socket) and kept in one of `pool_size` slots, one per thread ([`home_slot`]). Commands
///   therefore cost exactly one round trip: unlike a plain `pool.get()`, no health-check
///   `PING` precedes every command. A connection that fails or times out is dropped from
///   its slot and replaced on next use.
/// - Every operation, connecting included, is bounded by the timeout
///   ([`tokio::time::timeout`]); any failure is reported as [`PortError::Unavailable`].
/// - Cloning is cheap and clones share the connections.
#[derive(Clone)]
pub struct RedisPool {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    slots: Box<[Slot]>,
    timeout: Duration,
    prefix: String,
}

/// One multiplexed connection, created lazily; `connecting` lets one task (re)connect while
/// the others wait for it instead of each opening a socket.
struct Slot {
    conn: parking_lot::Mutex<Option<MultiplexedConnection>>,
    connecting: tokio::sync::Mutex<()>,
}

impl RedisPool {
    /// Builds the pool. Nothing is connected yet, so this succeeds whether or not Redis is
    /// up; it fails only for an invalid URL or out-of-range settings.
    pub fn connect(settings: &RedisSettings) -> Result<Self, RedisSetupError> {
        if settings.pool_size == 0 {
            return Err(RedisSetupError::InvalidSettings(
                "REDIS_POOL_SIZE must be at least 1".to_owned(),
            ));
        }
        if settings.timeout.is_zero() {
            return Err(RedisSetupError::InvalidSettings(
                "REDIS_TIMEOUT_MS must be at least 1".to_owned(),
            ));
        }
        let timeout = settings.timeout;
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(settings.url.as_str(), connection)
            .map_err(|err| RedisSetupError::InvalidUrl(err.to_string()))?;
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|err| RedisSetupError::InvalidSettings(err.to_string()))?;
        let slots = (0..settings.pool_size)
            .map(|_| Slot {
                conn: parking_lot::Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                slots,
                timeout,
                prefix: settings.key_prefix.clone(),
            }),
        })
    }

    /// The bound of every operation.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The prefix of every key.
    pub fn key_prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// `{prefix}{kind}:{name}`: the full name of a key of one kind (`rl`, `lt`, `rv`, …).
    pub(crate) fn key(&self, kind: &str, name: &str) -> String {
        let prefix = &self.inner.prefix;
        let mut key = String::with_capacity(prefix.len() + kind.len() + 1 + name.len());
        key.push_str(prefix);
        key.push_str(kind);
        key.push(':');
        key.push_str(name);
        key
    }

    /// One `PING`, bounded by the timeout; the round trip when Redis answered.
    pub async fn ping(&self) -> PortResult<Duration> {
        let started = Instant::now();
        let pong: String = self
            .run("ping", |mut conn| async move {
                redis::cmd("PING").query_async(&mut conn).await
            })
            .await?;
        if pong != "PONG" {
            return Err(PortError::Unavailable(
                (format!("redis ping: unexpected answer {pong:?}")).into(),
            ));
        }
        Ok(started.elapsed())
    }

    /// Drops every open connection; the next operations reconnect. Called when Redis is
    /// found unreachable, so that no stale socket survives its return.
    pub(crate) fn discard_all(&self) {
        for slot in &*self.inner.slots {
            slot.conn.lock().take();
        }
    }

    /// Runs `op` on a connection, bounded by the timeout. `op` gets its own handle of a
    /// multiplexed connection and may be called twice: when a kept connection turns out to be
    /// closed (Redis restarted since it was opened), it is replaced and `op` retried once on
    /// the fresh connection, within the same time bound.
    pub(crate) async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> PortResult<T>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let index = home_slot() % self.inner.slots.len();
        match tokio::time::timeout(self.inner.timeout, self.run_on(index, &op)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(unavailable(what, err)),
            Err(_) => {
                // A silent socket is as good as dead: do not reuse it.
                self.discard(index);
                Err(PortError::Unavailable(
                    (format!("redis {what}: timed out after {:?}", self.inner.timeout)).into(),
                ))
            }
        }
    }

    async fn run_on<T, F, Fut>(&self, index: usize, op: &F) -> Result<T, Failure>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let (conn, fresh) = self.connection(index).await?;
        match op(conn).await {
            Ok(value) => Ok(value),
            Err(err) if is_connection_error(&err) => {
                self.discard(index);
                if fresh {
                    return Err(Failure::Redis(err));
                }
                let (conn, _) = self.connection(index).await?;
                op(conn).await.map_err(|err| {
                    if is_connection_error(&err) {
                        self.discard(index);
                    }
                    Failure::Redis(err)
                })
            }
            Err(err) => Err(Failure::Redis(err)),
        }
    }

    /// The connection of slot `index`, opened if needed; `true` when it was just opened.
    async fn connection(&self, index: usize) -> Result<(MultiplexedConnection, bool), Failure> {
        let slot = &self.inner.slots[index];
        if let Some(conn) = slot.conn.lock().clone() {
            return Ok((conn, false));
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(conn) = slot.conn.lock().clone() {
            return Ok((conn, false));
        }
        let object = self
            .inner
            .pool
            .get()
            .await
            .map_err(|err| Failure::Pool(err.to_string()))?;
        // Taken out of the pool for good: deadpool would `PING` it before every reuse.
        let conn = deadpool_redis::Connection::take(object);
        *slot.conn.lock() = Some(conn.clone());
        Ok((conn, true))
    }

    fn discard(&self, index: usize) {
        self.inner.slots[index].conn.lock().take();
    }
}

impl fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open = self
            .inner
            .slots
            .iter()
            .filter(|slot| slot.conn.lock().is_some())
            .count();
        f.debug_struct("RedisPool")
            .field("slots", &self.inner.slots.len())
            .field("open", &open)
            .field("timeout", &self.inner.timeout)
            .field("key_prefix", &self.inner.prefix)
            .finish()
    }
}

/// The calling thread's slot: threads get consecutive numbers on first use, so up to
/// `pool_size` threads each keep to a connection of their own. A multiplexed connection's
/// driver task runs on the runtime that opened it; a server worker (one single-threaded
/// runtime per thread) that uses the connection it opened sends and receives on its own
/// thread, where one shared round-robin had every other command wake a second thread twice.
fn home_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    HOME.with(|home| *home)
}

/// What went wrong inside the time bound.
enum Failure {
    /// No connection could be had (refused, connect timeout, …).
    Pool(String),
    /// A command failed.
    Redis(RedisError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pool(err) => write!(f, "no connection: {err}"),
            Self::Redis(err) => write!(f, "{err}"),
        }
    }
}

/// True when the connection that reported `err` cannot be trusted any more.
fn is_connection_error(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

fn unavailable(what: &str, err: impl fmt::Display) -> PortError {
    PortError::Unavailable((format!("redis {what}: {err}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_urls_and_settings_are_refused() {
        let bad_url = RedisPool::connect(&RedisSettings::new("http://nope"));
        assert!(matches!(bad_url, Err(RedisSetupError::InvalidUrl(_))));
        let no_slots = RedisPool::connect(&RedisSettings::new("redis://h").with_pool_size(0));
        assert!(matches!(no_slots, Err(RedisSetupError::InvalidSettings(_))));
        let no_time =
            RedisPool::connect(&RedisSettings::new("redis://h").with_timeout(Duration::ZERO));
        assert!(matches!(no_time, Err(RedisSetupError::InvalidSettings(_))));
    }

    #[test]
    fn keys_are_prefixed_by_kind() {
        let settings = RedisSettings::new("redis://127.0.0.1").with_key_prefix("p:");
        let pool = RedisPool::connect(&settings).expect("pool");
        assert_eq!(pool.key("rl", "user:1"), "p:rl:user:1");
        assert_eq!(pool.key_prefix(), "p:");
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast() {
        // Port 1 on localhost: nothing listens there, the connection is refused at once.
        let settings =
            RedisSettings::new("redis://127.0.0.1:1").with_timeout(Duration::from_millis(200));
        let pool = RedisPool::connect(&settings).expect("pool");
        let started = Instant::now();
        let err = pool.ping().await.expect_err("nothing listens on port 1");
        assert!(matches!(err, PortError::Unavailable(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(400));
    }

    #[test]
    fn each_thread_keeps_a_slot_of_its_own() {
        let here = home_slot();
        assert_eq!(home_slot(), here, "a thread's slot does not move");
        let there = std::thread::spawn(home_slot).join().expect("thread");
        assert_ne!(there, here, "another thread gets another slot");
    }
}
