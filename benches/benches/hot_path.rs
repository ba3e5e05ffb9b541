//! Criterion micro-benchmarks of the pieces every request goes through (SPEC §8): JWT issue and
//! verify, the revocation check, the rate-limit check in process and over Redis, a response
//! cache hit, the password policy and the mapping of errors to HTTP responses.
//!
//! Run with `cargo bench -p ainative-benches` (part of `make bench`). The Redis benchmarks use
//! `BENCH_REDIS_URL` (else `REDIS_URL`, else `redis://127.0.0.1:6379`) under a key prefix of
//! their own, and are skipped, with a note, when that Redis does not answer.
//!
//! Under `cargo test --all-targets` criterion runs each benchmark once, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use actix_web::ResponseError;
use ainative_adapters_redis::{
    InMemoryRateLimiter, InMemoryResponseCache, InMemoryRevocationList, RedisPool,
    RedisRateLimiter, RedisResponseCache, RedisSettings,
};
use ainative_auth::{
    AuthError, JwtSettings, PrivateKey, SigningAlgorithm, TokenCodec, TokenKind, TokenRejection,
};
use ainative_domain::{PasswordPolicy, Role, Tier, ValidationErrors};
use ainative_http_api::ApiError;
use ainative_ports::{RateLimiter, ResponseCache, RevocationList};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;
use tokio::runtime::Runtime;
use uuid::Uuid;

/// The window given to the limiters. The middleware uses 60 s; a short window keeps the
/// sliding log at its steady state (one hit added and one expired per check) instead of letting
/// it grow by every iteration criterion makes, which is what production traffic does too.
const WINDOW: Duration = Duration::from_millis(50);
/// High enough that every check is allowed and counted (the expensive path).
const LIMIT: u32 = 1_000_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn codec() -> TokenCodec {
    codec_with(None)
}

/// A codec signing with `key` (HS256 when `None`).
fn codec_with(signing_key: Option<PrivateKey>) -> TokenCodec {
    TokenCodec::new(&JwtSettings {
        secret: SecretString::from("a-benchmark-secret-of-at-least-32-bytes!".to_owned()),
        signing_key,
        previous_keys: Vec::new(),
        issuer: "ainative".into(),
        audience: "ainative-api".into(),
        access_ttl: Duration::from_secs(30 * 60),
        refresh_ttl: Duration::from_secs(7 * 24 * 3600),
    })
}

fn issue(codec: &TokenCodec, user: Uuid, session: Uuid) -> String {
    let now = Utc::now();
    let claims = codec.claims(
        TokenKind::Access,
        user,
        &[Role::Student],
        Tier::Free,
        session,
        now,
        now + chrono::Duration::minutes(30),
    );
    codec.encode(&claims).expect("signing")
}

fn jwt(c: &mut Criterion) {
    let codec = codec();
    let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
    let token = issue(&codec, user, session);
    let mut g = c.benchmark_group("jwt");
    g.bench_function("issue_access", |b| {
        b.iter(|| issue(black_box(&codec), black_box(user), black_box(session)))
    });
    g.bench_function("verify_access", |b| {
        b.iter(|| {
            codec
                .decode(black_box(&token), TokenKind::Access)
                .expect("valid")
        })
    });
    let rt = runtime();
    let revocations = InMemoryRevocationList::new();
    // What the auth middleware does per request without touching any database.
    g.bench_function("verify_and_revocation_check", |b| {
        b.to_async(&rt).iter(|| async {
            let claims = codec
                .decode(black_box(&token), TokenKind::Access)
                .expect("valid");
            revocations
                .is_session_revoked(claims.sid)
                .await
                .expect("in-process")
        })
    });
    g.finish();
}

/// Issue and verify with each asymmetric algorithm (SPEC §10.3): what EdDSA, the default,
/// costs per request against HS256's `jwt/verify_access`.
fn jwt_asymmetric(c: &mut Criterion) {
    let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
    for (name, alg) in [
        ("jwt_eddsa", SigningAlgorithm::EdDsa),
        ("jwt_es256", SigningAlgorithm::Es256),
        ("jwt_rs256", SigningAlgorithm::Rs256),
    ] {
        let key = PrivateKey::generate(alg).expect("a key");
        let codec = codec_with(Some(key));
        let token = issue(&codec, user, session);
        let mut g = c.benchmark_group(name);
        g.bench_function("issue_access", |b| {
            b.iter(|| issue(black_box(&codec), black_box(user), black_box(session)))
        });
        g.bench_function("verify_access", |b| {
            b.iter(|| {
                codec
                    .decode(black_box(&token), TokenKind::Access)
                    .expect("valid")
            })
        });
        g.finish();
    }
}

fn rate_limit_in_process(c: &mut Criterion) {
    let rt = runtime();
    let limiter = InMemoryRateLimiter::new();
    let key = format!("rl:user:{}", Uuid::new_v4());
    let mut g = c.benchmark_group("rate_limit");
    g.bench_function("in_process_check", |b| {
        b.to_async(&rt).iter(|| async {
            limiter
                .check(black_box(&key), LIMIT, WINDOW)
                .await
                .expect("in-process")
        })
    });
    g.finish();
}

/// A pool on the benchmark Redis, or `None` (with a note) when it does not answer.
fn redis_pool(rt: &Runtime) -> Option<RedisPool> {
    let url = std::env::var("BENCH_REDIS_URL")
        .or_else(|_| std::env::var("REDIS_URL"))
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let settings = RedisSettings::new(url)
        .with_pool_size(4)
        .with_timeout(Duration::from_millis(500))
        .with_key_prefix(format!("ainative-bench:{}:", std::process::id()));
    let pool = match RedisPool::connect(&settings) {
        Ok(pool) => pool,
        Err(err) => {
            eprintln!("skipping the Redis benchmarks: {err}");
            return None;
        }
    };
    match rt.block_on(pool.ping()) {
        Ok(_) => Some(pool),
        Err(err) => {
            eprintln!("skipping the Redis benchmarks: Redis does not answer ({err})");
            None
        }
    }
}

fn over_redis(c: &mut Criterion) {
    let rt = runtime();
    let Some(pool) = redis_pool(&rt) else {
        return;
    };
    let limiter = RedisRateLimiter::new(pool.clone());
    let key = format!("rl:user:{}", Uuid::new_v4());
    let cache = RedisResponseCache::new(pool);
    let cache_key = "0".repeat(64);
    let value = cached_value();
    rt.block_on(cache.put(&cache_key, &value, Duration::from_secs(300)))
        .expect("redis put");

    let mut g = c.benchmark_group("redis");
    // One EVALSHA round trip on loopback: the cost an authenticated request pays with Redis.
    g.bench_function("rate_limit_check", |b| {
        b.to_async(&rt).iter(|| async {
            limiter
                .check(black_box(&key), LIMIT, WINDOW)
                .await
                .expect("redis")
        })
    });
    g.bench_function("cache_hit", |b| {
        b.to_async(&rt).iter(|| async {
            cache
                .get(black_box(&cache_key))
                .await
                .expect("redis")
                .expect("hit")
        })
    });
    g.finish();
}

/// A stored LLM answer of a typical size.
fn cached_value() -> String {
    let answer = "Before writing the loop, what should `total` be when the list is empty? \
                  Try stating the invariant of the accumulator in one sentence. "
        .repeat(8);
    format!(r#"{{"text":"{answer}","tokens_in":412,"tokens_out":187}}"#)
}

fn cache(c: &mut Criterion) {
    let rt = runtime();
    let cache = InMemoryResponseCache::new(10_000);
    let key = "f".repeat(64);
    let value = cached_value();
    rt.block_on(cache.put(&key, &value, Duration::from_secs(300)))
        .expect("in-process put");
    let mut g = c.benchmark_group("cache");
    g.bench_function("in_process_hit", |b| {
        b.to_async(&rt).iter(|| async {
            cache
                .get(black_box(&key))
                .await
                .expect("in-process")
                .expect("hit")
        })
    });
    g.finish();
}

fn password_policy(c: &mut Criterion) {
    let policy = PasswordPolicy::new(8);
    let mut g = c.benchmark_group("password_policy");
    g.bench_function("strong_accepted", |b| {
        b.iter(|| {
            policy
                .check(
                    black_box("Correct-Horse-7-Battery"),
                    black_box("ada@example.com"),
                    black_box("ada_l"),
                )
                .expect("accepted")
        })
    });
    g.bench_function("common_rejected", |b| {
        b.iter(|| {
            policy
                .check(
                    black_box("Password1"),
                    black_box("ada@example.com"),
                    black_box("ada_l"),
                )
                .expect_err("too common")
        })
    });
    g.bench_function("too_long_rejected_before_hashing", |b| {
        let long = "Aa1".repeat(30);
        b.iter(|| policy.check_length(black_box(&long)).expect_err("too long"))
    });
    g.finish();
}

fn error_mapping(c: &mut Criterion) {
    let mut g = c.benchmark_group("error_mapping");
    g.bench_function("unauthorized_401", |b| {
        b.iter(|| {
            let err = ApiError::from(AuthError::InvalidToken(TokenRejection::Expired));
            black_box(err.error_response())
        })
    });
    g.bench_function("validation_422", |b| {
        b.iter(|| {
            let mut errors = ValidationErrors::new();
            errors.push("email", "is not a valid e-mail address");
            errors.push("password", "must contain at least one digit");
            black_box(ApiError::from(errors).error_response())
        })
    });
    g.bench_function("rate_limited_429", |b| {
        b.iter(|| {
            let err = ApiError::RateLimited {
                message: "rate limit exceeded",
                retry_after_secs: black_box(17),
            };
            black_box(err.error_response())
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    jwt,
    jwt_asymmetric,
    rate_limit_in_process,
    cache,
    password_policy,
    error_mapping,
    over_redis
);
criterion_main!(benches);
