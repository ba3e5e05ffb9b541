//! Contract cases of [`crate::ServerErrorLog`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{now, plus_secs};
use super::Stores;
use crate::{ServerError, SERVER_ERRORS_KEPT};

/// A 503 of request `request_id` on `instance` at `at`.
pub fn server_error(instance: &str, request_id: &str, at: DateTime<Utc>) -> ServerError {
    ServerError {
        id: Uuid::new_v4(),
        instance: instance.to_owned(),
        request_id: request_id.to_owned(),
        method: "GET".to_owned(),
        route: "/api/v1/sessions/{id}".to_owned(),
        status: 503,
        detail: format!("database unavailable while serving {request_id}"),
        occurred_at: at,
    }
}

/// Errors come back newest first with every field, and only the newest
/// [`SERVER_ERRORS_KEPT`] are kept, however they arrived.
pub async fn server_errors_newest_first_and_bounded(s: Stores) {
    assert_eq!(s.errors.recent(10).await, Ok(vec![]));
    s.errors.record(&[]).await.expect("record nothing");
    let at = now();
    let kept = usize::try_from(SERVER_ERRORS_KEPT).expect("small");
    let all: Vec<ServerError> = (0..kept + 5)
        .map(|i| {
            let i = i64::try_from(i).expect("small");
            server_error(
                &format!("host-{}", i % 2),
                &format!("r{i}"),
                plus_secs(at, i),
            )
        })
        .collect();
    // One at a time, then in a batch: the bound holds either way.
    for error in &all[..3] {
        s.errors
            .record(std::slice::from_ref(error))
            .await
            .expect("record");
    }
    s.errors.record(&all[3..]).await.expect("record a batch");

    let recent = s
        .errors
        .recent(SERVER_ERRORS_KEPT * 2)
        .await
        .expect("recent");
    let mut expected: Vec<ServerError> = all[all.len() - kept..].to_vec();
    expected.reverse();
    assert_eq!(recent.len(), kept);
    assert_eq!(recent, expected);
    let head = s.errors.recent(3).await.expect("recent");
    assert_eq!(head, expected[..3].to_vec());
}

/// Recording an error again (a retried write) stores it once; errors of one instant come
/// back newest arrival first.
pub async fn server_errors_record_is_idempotent(s: Stores) {
    let at = now();
    let first = server_error("a", "r1", at);
    let second = server_error("b", "r2", at);
    s.errors
        .record(std::slice::from_ref(&first))
        .await
        .expect("record");
    s.errors
        .record(&[first.clone(), second.clone()])
        .await
        .expect("record again");
    assert_eq!(s.errors.recent(10).await, Ok(vec![second, first]));
}
