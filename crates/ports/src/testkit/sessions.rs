//! Contract cases of [`crate::AuthSessionRepository`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fixtures::{auth_session, new_user, now, plus_secs, refresh_token};
use super::Stores;
use crate::{AuthSession, NewRefreshToken, PortError, RevokedSession, RotateOutcome};

const DAY: i64 = 24 * 3600;

/// Creates a user and starts one session for it; returns the session and its first token.
async fn started(s: &Stores, at: DateTime<Utc>, ttl_secs: i64) -> (AuthSession, NewRefreshToken) {
    let user = new_user(
        &format!("u{}", &Uuid::new_v4().simple().to_string()[..12]),
        at,
    );
    s.users
        .create(user.clone(), None)
        .await
        .expect("create user");
    let session = auth_session(user.id, at, ttl_secs);
    let first = refresh_token(at);
    s.sessions
        .start(session.clone(), first.clone())
        .await
        .expect("start");
    (session, first)
}

async fn rotate(
    s: &Stores,
    presented: &NewRefreshToken,
    next: &NewRefreshToken,
    now: DateTime<Utc>,
) -> RotateOutcome {
    s.sessions
        .rotate(presented.jti, &presented.token_hash, next.clone(), now)
        .await
        .expect("rotate")
}

/// `start` records a session that `find` returns; unknown users are `NotFound`, a duplicate
/// id is `Conflict::Duplicate("session")` and records nothing.
pub async fn session_start_and_find(s: Stores) {
    let at = now();
    let (session, _) = started(&s, at, 7 * DAY).await;
    assert_eq!(
        s.sessions.find(session.id).await.expect("find"),
        Some(session.clone())
    );
    assert_eq!(s.sessions.find(Uuid::new_v4()).await, Ok(None));

    let orphan = auth_session(Uuid::new_v4(), at, DAY);
    assert_eq!(
        s.sessions.start(orphan.clone(), refresh_token(at)).await,
        Err(PortError::NotFound)
    );
    assert_eq!(s.sessions.find(orphan.id).await, Ok(None));

    let token = refresh_token(at);
    assert_eq!(
        s.sessions.start(session.clone(), token.clone()).await,
        Err(PortError::Conflict(crate::Conflict::Duplicate("session")))
    );
    let outcome = rotate(&s, &token, &refresh_token(at), plus_secs(at, 1)).await;
    assert_eq!(
        outcome,
        RotateOutcome::Unknown,
        "the token of a rejected start is not recorded"
    );
}

/// Each current token rotates once; rotation never extends the family.
pub async fn session_rotate_happy_path(s: Stores) {
    let at = now();
    let (session, first) = started(&s, at, 7 * DAY).await;
    let second = refresh_token(plus_secs(at, 60));
    assert_eq!(
        rotate(&s, &first, &second, plus_secs(at, 60)).await,
        RotateOutcome::Rotated(session.clone())
    );
    let third = refresh_token(plus_secs(at, 120));
    assert_eq!(
        rotate(&s, &second, &third, plus_secs(at, 120)).await,
        RotateOutcome::Rotated(session.clone())
    );
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(session)));
}

/// At and after `expires_at` the family is `Expired`, and that changes nothing.
pub async fn session_rotate_expired(s: Stores) {
    let at = now();
    let (session, first) = started(&s, at, 3600).await;
    let next = refresh_token(at);
    assert_eq!(
        rotate(&s, &first, &next, plus_secs(at, 3601)).await,
        RotateOutcome::Expired
    );
    assert_eq!(
        rotate(&s, &first, &next, session.expires_at).await,
        RotateOutcome::Expired,
        "the family ends at expires_at"
    );
    // The token was not retired by the refused calls.
    assert_eq!(
        rotate(&s, &first, &next, plus_secs(at, 60)).await,
        RotateOutcome::Rotated(session)
    );
}

/// Unknown `jti`s and hash mismatches are `Unknown` and retire nothing.
pub async fn session_rotate_unknown(s: Stores) {
    let at = now();
    let (session, first) = started(&s, at, DAY).await;
    let next = refresh_token(at);
    let stranger = refresh_token(at);
    assert_eq!(
        rotate(&s, &stranger, &next, plus_secs(at, 1)).await,
        RotateOutcome::Unknown
    );
    let forged = NewRefreshToken {
        token_hash: "0".repeat(64),
        ..first.clone()
    };
    assert_eq!(
        rotate(&s, &forged, &next, plus_secs(at, 1)).await,
        RotateOutcome::Unknown
    );
    assert_eq!(
        rotate(&s, &first, &next, plus_secs(at, 2)).await,
        RotateOutcome::Rotated(session)
    );
}

/// A retired token presented again is `Reused` with the time it was retired; nothing changes:
/// the replacement stays current and the replay's `next` is not recorded.
pub async fn session_rotate_reuse(s: Stores) {
    let at = now();
    let (session, first) = started(&s, at, DAY).await;
    let retired_at = plus_secs(at, 10);
    let second = refresh_token(retired_at);
    assert_eq!(
        rotate(&s, &first, &second, retired_at).await,
        RotateOutcome::Rotated(session.clone())
    );

    let replay_next = refresh_token(plus_secs(at, 20));
    assert_eq!(
        rotate(&s, &first, &replay_next, plus_secs(at, 20)).await,
        RotateOutcome::Reused {
            session: session.clone(),
            retired_at,
        }
    );
    assert_eq!(
        rotate(&s, &replay_next, &refresh_token(at), plus_secs(at, 21)).await,
        RotateOutcome::Unknown
    );
    assert_eq!(s.sessions.find(session.id).await, Ok(Some(session.clone())));
    assert_eq!(
        rotate(&s, &second, &refresh_token(at), plus_secs(at, 30)).await,
        RotateOutcome::Rotated(session)
    );
}

/// `revoke` reports whether it changed anything; a revoked family answers `Revoked` for its
/// current and its retired tokens.
pub async fn session_rotate_revoked_family(s: Stores) {
    let at = now();
    let (session, first) = started(&s, at, DAY).await;
    let second = refresh_token(at);
    assert_eq!(
        rotate(&s, &first, &second, plus_secs(at, 5)).await,
        RotateOutcome::Rotated(session.clone())
    );

    let revoked_at = plus_secs(at, 10);
    assert_eq!(s.sessions.revoke(session.id, revoked_at).await, Ok(true));
    assert_eq!(
        s.sessions.revoke(session.id, plus_secs(at, 11)).await,
        Ok(false)
    );
    assert_eq!(
        s.sessions.revoke(Uuid::new_v4(), revoked_at).await,
        Err(PortError::NotFound)
    );
    let stored = s
        .sessions
        .find(session.id)
        .await
        .expect("find")
        .expect("session");
    assert_eq!(stored.revoked_at, Some(revoked_at));

    assert_eq!(
        rotate(&s, &second, &refresh_token(at), plus_secs(at, 20)).await,
        RotateOutcome::Revoked
    );
    assert_eq!(
        rotate(&s, &first, &refresh_token(at), plus_secs(at, 20)).await,
        RotateOutcome::Revoked
    );
    // Revocation is checked before expiry.
    assert_eq!(
        rotate(&s, &second, &refresh_token(at), plus_secs(at, 2 * DAY)).await,
        RotateOutcome::Revoked
    );
}

/// Twenty concurrent rotations of one token: exactly one `Rotated`, the rest `Reused`, no
/// errors; only the winner's `next` is recorded.
pub async fn session_rotate_concurrent_race(s: Stores) {
    const CONTENDERS: usize = 20;
    let at = now();
    let (session, first) = started(&s, at, DAY).await;
    let when = plus_secs(at, 1);

    // Line the contenders up so that they really overlap.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(CONTENDERS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONTENDERS {
        let sessions = s.sessions.clone();
        let presented = first.clone();
        let next = refresh_token(when);
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            let outcome = sessions
                .rotate(presented.jti, &presented.token_hash, next.clone(), when)
                .await;
            (next, outcome)
        });
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (next, outcome) = joined.expect("task");
        match outcome {
            Ok(RotateOutcome::Rotated(got)) => {
                assert_eq!(got, session);
                winners.push(next);
            }
            Ok(RotateOutcome::Reused {
                session: got,
                retired_at,
            }) => {
                assert_eq!(got, session);
                assert_eq!(retired_at, when);
                losers.push(next);
            }
            other => panic!("unexpected outcome of a concurrent rotation: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert_eq!(losers.len(), CONTENDERS - 1);

    for loser in &losers {
        assert_eq!(
            rotate(&s, loser, &refresh_token(at), plus_secs(at, 2)).await,
            RotateOutcome::Unknown
        );
    }
    assert_eq!(
        rotate(&s, &winners[0], &refresh_token(at), plus_secs(at, 2)).await,
        RotateOutcome::Rotated(session)
    );
}

/// `revoked_sessions` lists revoked, unexpired sessions revoked at or after `since`.
pub async fn session_revoked_sessions_filter(s: Stores) {
    let at = now();
    let (early, _) = started(&s, at, DAY).await;
    let (late, _) = started(&s, at, DAY).await;
    let (expired, _) = started(&s, at, 120).await;
    let (live, _) = started(&s, at, DAY).await;
    assert_eq!(
        s.sessions.revoke(early.id, plus_secs(at, 60)).await,
        Ok(true)
    );
    assert_eq!(
        s.sessions.revoke(late.id, plus_secs(at, 180)).await,
        Ok(true)
    );
    assert_eq!(
        s.sessions.revoke(expired.id, plus_secs(at, 60)).await,
        Ok(true)
    );

    let now = plus_secs(at, 300);
    let entry = |session: &AuthSession| RevokedSession {
        id: session.id,
        expires_at: session.expires_at,
    };
    let listed = |since: Option<DateTime<Utc>>| {
        let sessions = s.sessions.clone();
        async move {
            let mut found = sessions
                .revoked_sessions(since, now)
                .await
                .expect("revoked_sessions");
            found.sort_by_key(|r| r.id);
            found
        }
    };
    let mut both = vec![entry(&early), entry(&late)];
    both.sort_by_key(|r| r.id);

    assert_eq!(listed(None).await, both);
    assert_eq!(listed(Some(at)).await, both);
    assert_eq!(listed(Some(plus_secs(at, 120))).await, vec![entry(&late)]);
    assert_eq!(
        listed(Some(plus_secs(at, 180))).await,
        vec![entry(&late)],
        "since is inclusive"
    );
    assert!(listed(Some(plus_secs(at, 181))).await.is_empty());

    // Before `expired` ends it is listed too; `live` never is.
    let before_end = s
        .sessions
        .revoked_sessions(None, plus_secs(at, 90))
        .await
        .expect("revoked_sessions");
    let ids: HashSet<Uuid> = before_end.iter().map(|r| r.id).collect();
    assert!(ids.contains(&early.id));
    assert!(ids.contains(&expired.id));
    assert!(!ids.contains(&live.id));
}
