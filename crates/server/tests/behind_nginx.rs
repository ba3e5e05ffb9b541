//! Two `ainative serve` processes behind nginx (SPEC §10.6), with the configuration shipped in
//! `deploy/nginx/ainative.conf.template`, on one PostgreSQL database and one Redis: rate
//! limits and login throttling are global, a logout on one instance is refused by the other
//! within a second, identical concurrent turns on both make one provider call, and a
//! streamed turn passes the proxy unbuffered, jobs run once on one of the instances' own
//! workers, and a material whose instance is killed mid-stage is finished by the other.
//!
//! Needs `nginx` on PATH (`.ci/run` installs it); without it these tests are reported as
//! ignored (see build.rs), never as passed.

#![cfg_attr(not(has_nginx), allow(dead_code, unused_imports))]

mod deployment;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ainative_adapters_postgres::{PgStore, PoolSettings};
use ainative_domain::Page;
use ainative_ports::{Clock, JobFilter, JobQueue, JobState, NewJob, SystemClock};
use ainative_server::workers::{probe_events, DIAGNOSTICS_KIND};
use ainative_test_support::fake::wiremock::matchers::{method, path};
use ainative_test_support::fake::wiremock::{Mock, MockServer, Request, ResponseTemplate};
use ainative_test_support::fake::{as_overrides, http_fake};
use ainative_test_support::{wait_until, TempDir};
use deployment::{Deployment, FakeLlmProvider};
use futures::StreamExt;
use serde_json::{json, Value};

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_login_throttling_are_global_behind_nginx() {
    let deployment =
        Deployment::start(&[("RATE_LIMIT_ANONYMOUS", "20"), ("RATE_LIMIT_LOGIN", "3")]).await;
    let proxy = deployment.proxy();

    let mut statuses = Vec::new();
    for _ in 0..50 {
        statuses.push(proxy.get("/api/v1/auth/me", None).await.0);
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        limited, 30,
        "20 of 50 anonymous requests pass over both instances together: {statuses:?}"
    );
    assert!(
        deployment.both_answered().await,
        "nginx used both instances"
    );

    // Login throttling, from another client address (X-Forwarded-For through a trusted hop).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = proxy
            .post_from(
                "203.0.113.7",
                "/api/v1/auth/login",
                None,
                &json!({"username": "lena", "password": "Wrong-password-1"}),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429], "{statuses:?}");
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_refused_by_the_other_within_a_second() {
    let deployment = Deployment::start(&[]).await;
    let (a, b) = (deployment.instance(0), deployment.instance(1));
    let token = a.register("lena").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(b.get("/api/v1/auth/me", Some(&token)).await.0, 200);

    let (status, body) = a
        .post("/api/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    wait_until(Duration::from_secs(1), "B refuses the token", || async {
        b.get("/api/v1/auth/me", Some(&token)).await.0 == 401
    })
    .await;
    assert_eq!(
        deployment
            .proxy()
            .get("/api/v1/auth/me", Some(&token))
            .await
            .0,
        401
    );
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_turns_on_both_instances_make_one_provider_call() {
    let provider = FakeLlmProvider::start(Duration::from_millis(500)).await;
    let deployment = Deployment::start(&as_overrides(&provider.env())).await;
    let (a, b) = (deployment.instance(0), deployment.instance(1));
    let activity = deployment.published_activity().await;

    let mut students = Vec::new();
    for i in 0..8 {
        let via = if i % 2 == 0 { a } else { b };
        let token = via.token_of(&format!("learner{i}")).await;
        let session = via.start(&token, &activity).await;
        students.push((via, token, session));
    }
    let turns = students.iter().map(|(via, token, session)| async move {
        via.post(
            &format!("/api/v1/sessions/{session}/interactions"),
            Some(token),
            &json!({"prompt": "What is a for loop?"}),
        )
        .await
    });
    let answers = futures::future::join_all(turns).await;
    let mut leaders = 0;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        let interaction = &body["data"]["interaction"];
        assert_eq!(interaction["response"], "One shared answer", "{body}");
        if interaction["cache_hit"] == false {
            leaders += 1;
        } else {
            assert_eq!(
                interaction["tokens_in"], 0,
                "a follower carries no usage: {body}"
            );
        }
    }
    assert_eq!(leaders, 1, "{answers:?}");
    assert_eq!(
        provider.completions.load(Ordering::SeqCst),
        1,
        "one provider call for eight identical turns on two instances"
    );
}

#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_passes_nginx_unbuffered() {
    let provider = FakeLlmProvider::start(Duration::ZERO).await;
    let deployment = Deployment::start(&as_overrides(&provider.env())).await;
    let proxy = deployment.proxy();
    let activity = deployment.published_activity().await;
    let token = deployment.instance(0).token_of("lena").await;
    let session = deployment.instance(0).start(&token, &activity).await;

    let res = proxy
        .http
        .post(proxy.url(&format!("/api/v1/sessions/{session}/interactions/stream")))
        .bearer_auth(&token)
        .json(&json!({"prompt": "Explain loops"}))
        .send()
        .await
        .expect("stream opens");
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut received = String::new();
    // The provider holds its last words until the first delta has reached the client: a
    // buffering proxy would deliver nothing before the end and the wait would fail.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        while !received.contains("event: delta") {
            match body.next().await {
                Some(Ok(chunk)) => received.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
    })
    .await;
    assert!(
        first.is_ok() && received.contains("event: delta"),
        "no delta came through nginx while the provider held the rest: {received:?}"
    );
    assert!(!received.contains("event: done"), "{received}");
    provider.finish_streams();
    while let Some(chunk) = body.next().await {
        received.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(received.contains("event: done"), "{received}");
    let done: Value = received
        .split("event: done\ndata: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|line| serde_json::from_str(line).ok())
        .expect("done payload");
    assert_eq!(
        done["interaction"]["response"], "Hello from the stream",
        "{done}"
    );
}

/// Both instances run workers (`WORKERS`, default 2) on the shared queue: every job runs
/// exactly once, and both instances take work.
#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_once_across_the_instances() {
    let probes = TempDir::create("probes");
    let dir = probes.path().to_str().expect("utf-8 path").to_owned();
    let d = Deployment::start(&[("JOB_DIAGNOSTICS_DIR", &dir)]).await;
    let queue = PgStore::connect(&PoolSettings::new(d.database_url().to_owned()))
        .await
        .expect("connect");
    let mut ids = Vec::new();
    for _ in 0..40 {
        let job = NewJob::new(DIAGNOSTICS_KIND, json!({"sleep_ms": 50}), SystemClock.now());
        ids.push(queue.enqueue(job).await.expect("enqueue").id);
    }
    wait_until(Duration::from_secs(60), "every job ended", || async {
        ids.iter().all(|id| {
            probe_events(probes.path(), *id)
                .iter()
                .any(|e| e.event == "end")
        })
    })
    .await;
    let instances: HashSet<u32> = d.instance_pids().into_iter().collect();
    let mut ran_on = HashSet::new();
    for id in &ids {
        let log = probe_events(probes.path(), *id);
        let runs: Vec<(&str, u32)> = log.iter().map(|e| (e.event.as_str(), e.pid)).collect();
        assert!(
            matches!(runs.as_slice(), [("start", a), ("end", b)] if a == b),
            "job {id} ran once: {log:?}"
        );
        ran_on.insert(log[0].pid);
        assert_eq!(
            queue.get(*id).await.expect("get").state,
            JobState::Succeeded
        );
    }
    assert_eq!(ran_on, instances, "both instances ran jobs");
}

/// Embeddings endpoint of the material test: its first call never answers (the instance
/// making it is killed meanwhile); later calls answer one vector per input.
async fn embeddings_that_hang_once() -> MockServer {
    let server = http_fake().await;
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let vectors = |req: &Request| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let inputs = body["input"].as_array().map_or(0, Vec::len);
        let data: Vec<Value> = (0..inputs)
            .map(|i| json!({"object": "embedding", "index": i, "embedding": [1.0, i as f64, 0.5]}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}
        }))
    };
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .respond_with(vectors)
        .mount(&server)
        .await;
    server
}

/// The instance processing a material is SIGKILLed in the middle of its embedding stage:
/// once the lease expires the other instance's worker takes the job over, and the material
/// completes; no stage stays `processing`.
#[cfg_attr(not(has_nginx), ignore = "nginx is not installed")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_material_survives_the_sigkill_of_the_instance_processing_it() {
    let embeddings = embeddings_that_hang_once().await;
    let mut d = Deployment::start(&[
        ("EMBEDDING_BASE_URL", &embeddings.uri()),
        ("JOB_LEASE_SECS", "2"),
        ("JOB_POLL_MS", "100"),
    ])
    .await;
    let activity = d.published_activity().await;
    let teacher = d.instance(0).login("teacher").await;
    let upload = json!({
        "title": "Loops",
        "content_type": "text/markdown",
        "content": "# Loops\n\nA for loop visits every item of a list in order. \
                    An accumulator keeps the running sum of the items.\n",
    });
    let (status, body) = d
        .proxy()
        .post(
            &format!("/api/v1/activities/{activity}/materials"),
            Some(&teacher),
            &upload,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let material = body["data"]["id"].as_str().expect("material id").to_owned();
    wait_until(
        Duration::from_secs(60),
        "the embedding stage started",
        || async {
            !embeddings
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
        },
    )
    .await;

    let queue = PgStore::connect(&PoolSettings::new(d.database_url().to_owned()))
        .await
        .expect("connect");
    let running = queue
        .list(
            JobFilter {
                state: Some(JobState::Running),
                kind: None,
            },
            Page::default(),
        )
        .await
        .expect("list");
    assert_eq!(running.items.len(), 1, "{running:?}");
    let job = &running.items[0];
    // The lease owner is `<host>:<pid>:<tag>-<worker>`.
    let owner = job.lease_owner.as_deref().expect("leased");
    let pid: u32 = owner
        .split(':')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("pid in owner");
    let killed = d.kill_instance(pid);
    let survivor = d.instance(1 - killed);

    let status_path = format!("/api/v1/materials/{material}/status");
    wait_until(
        Duration::from_secs(60),
        "the material completed",
        || async {
            let (code, status) = survivor.get(&status_path, Some(&teacher)).await;
            assert_eq!(code, 200, "{status}");
            let overall = status["data"]["overall"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_ne!(overall, "failed", "{status}");
            overall == "completed"
        },
    )
    .await;
    let (_, status) = survivor.get(&status_path, Some(&teacher)).await;
    let stages = status["data"]["stages"].as_array().expect("stages");
    assert!(
        stages.iter().all(|s| s["status"] == "completed"),
        "{status}"
    );
    let finished = queue.get(job.id).await.expect("get");
    assert_eq!(finished.state, JobState::Succeeded);
    assert_eq!(
        finished.attempts, 2,
        "the killed attempt and the one that finished"
    );
    assert!(
        embeddings
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
            >= 2
    );
}
