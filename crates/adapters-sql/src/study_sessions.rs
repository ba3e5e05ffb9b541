//! [`StudySessionRepository`]: study sessions and their evaluations.

use ainative_domain::{
    Activity, Evaluation, Page, Paginated, SessionAction, SessionStatus, StudySession,
};
use ainative_ports::{
    Conflict, Past, PortError, PortResult, RuleState, SessionFilter, SessionVisibility,
    StudySessionRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::columns::{read_all, read_one, Columns};
use crate::dialect::{Conn, DbRow, Dialect};
use crate::error::map_err;
use crate::lists::{count, offset};
use crate::statement::{AsJson, Stmt};
use crate::store::SqlStore;
use crate::tutoring_rows::{
    activity, activity_columns, evaluation, evaluation_columns, interaction, interaction_columns,
    study_session, study_session_columns,
};

/// The list filter: `$1` is the involved user (or NULL for all), `$2` the status (or NULL),
/// `$3` the activity (or NULL).
macro_rules! list_filter {
    () => {
        "WHERE ($1 IS NULL OR s.student_id = $1 OR EXISTS \
         (SELECT 1 FROM activities a WHERE a.id = s.activity_id AND a.owner_id = $1)) \
         AND ($2 IS NULL OR s.status = $2) \
         AND ($3 IS NULL OR s.activity_id = $3)"
    };
}

/// What a turn reads first (`$1` the session, `$2` how many interactions): the session, its
/// current rule state (as `interactions.past` reads it), its activity and a `1`, beside its
/// newest interaction; its other last interactions follow, newest first, on rows whose
/// session columns are NULL. One row of NULL interaction columns when it has none; no row
/// when it does not exist. Each part is sent once: the activity's texts and the rule state
/// are not repeated on every interaction's row.
const FOR_TURN: &str = concat!(
    "SELECT sa.*, i.* FROM (SELECT s.*, a.*, CAST(1 AS BIGINT) AS one FROM (SELECT ",
    study_session_columns!(),
    ", CASE WHEN COALESCE(rule_state_turns, 0) = interaction_count \
     THEN COALESCE(rule_state, '{}') ELSE 'null' END AS current_rule_state \
     FROM study_sessions WHERE id = $1) s JOIN (SELECT ",
    activity_columns!(),
    " FROM activities) a ON a.id = s.activity_id) sa FULL JOIN (SELECT ",
    interaction_columns!(),
    ", ROW_NUMBER() OVER (ORDER BY seq DESC) AS newest FROM interactions \
     WHERE session_id = $1 ORDER BY seq DESC LIMIT $2) i ON i.newest = sa.one \
     ORDER BY i.seq DESC"
);

/// [`FOR_TURN`]'s rows: the session, its activity and its past.
fn for_turn<D: Dialect>(rows: &[DbRow<D>]) -> PortResult<Option<(StudySession, Activity, Past)>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut c = Columns::<D>::new(first, "study session");
    let session = study_session(&mut c)?;
    let rule_state = RuleState {
        turns: session.interaction_count,
        data: c.json()?,
    };
    let activity = activity(c.then("activity"))?;
    c.skip(1);
    let width = c.position();
    let mut recent = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        let mut c = Columns::<D>::new(row, "interaction");
        c.skip(width);
        if c.next_uuid_is_null()? {
            continue;
        }
        recent.push(interaction::<D>(&mut c)?);
    }
    Ok(Some((session, activity, Past { recent, rule_state })))
}

/// A session and, in the columns after its own, its activity.
fn session_and_activity<D: Dialect>(
    c: &mut Columns<'_, D>,
) -> PortResult<(StudySession, Activity)> {
    let session = study_session(c)?;
    let activity = activity(c.then("activity"))?;
    Ok((session, activity))
}

/// Why a session could not be changed: it does not exist or it is not active.
async fn not_active_or_missing<D: Dialect>(conn: &mut Conn<D>, id: Uuid) -> PortResult<PortError> {
    let row = Stmt::<D>::new("SELECT EXISTS (SELECT 1 FROM study_sessions WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(if Columns::<D>::new(&row, "study session").get::<bool>()? {
        PortError::Conflict(Conflict::SessionNotActive)
    } else {
        PortError::NotFound
    })
}

async fn insert_evaluation<D: Dialect>(
    conn: &mut Conn<D>,
    evaluation: &Evaluation,
) -> PortResult<()> {
    Stmt::<D>::new(
        "INSERT INTO evaluations (id, session_id, student_id, overall_score, competency_level, \
         dimensions, ai_dependency_score, key_strengths, improvement_areas, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(evaluation.id)
    .bind(evaluation.session_id)
    .bind(evaluation.student_id)
    .bind(evaluation.overall_score)
    .bind(evaluation.competency_level.as_str())
    .bind(AsJson(&evaluation.dimensions))
    .bind(evaluation.ai_dependency_score)
    .bind(AsJson(&evaluation.key_strengths))
    .bind(AsJson(&evaluation.improvement_areas))
    .bind(evaluation.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> StudySessionRepository for SqlStore<D> {
    async fn create(&self, session: StudySession) -> PortResult<StudySession> {
        self.call("study_sessions.create", async {
            let row = Stmt::<D>::new(concat!(
                "INSERT INTO study_sessions (id, student_id, activity_id, mode, simulator_type, \
                 status, interaction_count, started_at, ended_at, llm_credential_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ",
                study_session_columns!()
            ))
            .bind(session.id)
            .bind(session.student_id)
            .bind(session.activity_id)
            .bind(session.mode.as_str())
            .bind(session.simulator_type.map(|t| t.as_str()))
            .bind(session.status.as_str())
            .bind(i64::from(session.interaction_count))
            .bind(session.started_at)
            .bind(session.ended_at)
            .bind(session.llm_credential_id)
            .fetch_one(&mut *self.conn().await?)
            .await?;
            read_one(&row, "study session", study_session::<D>)
        })
        .await
    }

    async fn find(&self, id: Uuid) -> PortResult<Option<StudySession>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            study_session_columns!(),
            " FROM study_sessions WHERE id = $1"
        ))
        .bind(id);
        self.call(
            "study_sessions.find",
            self.optional(find, "study session", study_session::<D>),
        )
        .await
    }

    async fn find_with_activity(&self, id: Uuid) -> PortResult<Option<(StudySession, Activity)>> {
        // Subqueries name the columns in the order the readers take them.
        let find = Stmt::new(concat!(
            "SELECT s.*, a.* FROM (SELECT ",
            study_session_columns!(),
            " FROM study_sessions WHERE id = $1) s JOIN (SELECT ",
            activity_columns!(),
            " FROM activities) a ON a.id = s.activity_id"
        ))
        .bind(id);
        self.call(
            "study_sessions.find_with_activity",
            self.optional(find, "study session", session_and_activity::<D>),
        )
        .await
    }

    async fn find_for_turn(
        &self,
        id: Uuid,
        history: u32,
    ) -> PortResult<Option<(StudySession, Activity, Past)>> {
        let find = Stmt::<D>::new(FOR_TURN).bind(id).bind(i64::from(history));
        self.call("study_sessions.find_for_turn", async {
            let rows = find.fetch_all(&mut *self.conn().await?).await?;
            for_turn::<D>(&rows)
        })
        .await
    }

    async fn list(
        &self,
        filter: &SessionFilter,
        page: Page,
    ) -> PortResult<Paginated<StudySession>> {
        self.call("study_sessions.list", async {
            let involving = match filter.visibility {
                SessionVisibility::All => None,
                SessionVisibility::Involving(user) => Some(user),
            };
            let status = filter.status.map(|s| s.as_str());
            let mut conn = self.conn().await?;
            let rows = Stmt::<D>::new(concat!(
                "SELECT ",
                study_session_columns!(),
                " FROM study_sessions s ",
                list_filter!(),
                " ORDER BY s.started_at DESC, s.id DESC LIMIT $4 OFFSET $5"
            ))
            .bind(involving)
            .bind(status)
            .bind(filter.activity_id)
            .bind(i64::from(page.limit()))
            .bind(offset(page))
            .fetch_all(&mut conn)
            .await?;
            let total = Stmt::<D>::new(concat!(
                "SELECT COUNT(*) FROM study_sessions s ",
                list_filter!()
            ))
            .bind(involving)
            .bind(status)
            .bind(filter.activity_id)
            .fetch_one(&mut conn)
            .await?;
            Ok(Paginated::new(
                read_all(&rows, "study session", study_session::<D>)?,
                count::<D>(&total)?,
                page,
            ))
        })
        .await
    }

    async fn end(
        &self,
        id: Uuid,
        status: SessionStatus,
        ended_at: DateTime<Utc>,
        evaluation: Evaluation,
    ) -> PortResult<StudySession> {
        self.call("study_sessions.end", async {
            if status == SessionStatus::Active {
                return Err(PortError::Other(
                    format!("session {id} cannot be ended with status active").into(),
                ));
            }
            if evaluation.session_id != id {
                return Err(PortError::Other(
                    format!(
                        "the evaluation of session {id} names session {}",
                        evaluation.session_id
                    )
                    .into(),
                ));
            }
            let mut tx = self.begin_write().await?;
            // Of concurrent ends only one finds it active: on PostgreSQL the row lock taken
            // here makes the others wait and re-check; on SQLite the transaction holds the
            // write lock.
            let row = Stmt::<D>::new(concat!(
                "UPDATE study_sessions SET status = $2, ended_at = $3 \
                 WHERE id = $1 AND status = 'active' RETURNING ",
                study_session_columns!()
            ))
            .bind(id)
            .bind(status.as_str())
            .bind(ended_at)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else {
                return Err(not_active_or_missing::<D>(&mut tx, id).await?);
            };
            let session = read_one(&row, "study session", study_session::<D>)?;
            insert_evaluation::<D>(&mut tx, &evaluation).await?;
            tx.commit().await.map_err(map_err::<D>)?;
            Ok(session)
        })
        .await
    }

    async fn transition(
        &self,
        id: Uuid,
        from: SessionStatus,
        action: SessionAction,
        at: DateTime<Utc>,
    ) -> PortResult<StudySession> {
        self.call("study_sessions.transition", async {
            let refused =
                |status| PortError::Conflict(Conflict::SessionTransition { status, action });
            let Some(to) = action.apply(from) else {
                return Err(refused(from));
            };
            let ended_at = to.is_final().then_some(at);
            let mut conn = self.conn().await?;
            // One conditional UPDATE: of concurrent changes only the first still finds `from`.
            let row = Stmt::<D>::new(concat!(
                "UPDATE study_sessions SET status = $3, ended_at = COALESCE($4, ended_at) \
                 WHERE id = $1 AND status = $2 RETURNING ",
                study_session_columns!()
            ))
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(ended_at)
            .fetch_optional(&mut conn)
            .await?;
            if let Some(row) = row {
                return read_one(&row, "study session", study_session::<D>);
            }
            let found = Stmt::<D>::new("SELECT status FROM study_sessions WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut conn)
                .await?;
            let Some(found) = found else {
                return Err(PortError::NotFound);
            };
            let status: String = Columns::<D>::new(&found, "study session").get()?;
            let status = status
                .parse::<SessionStatus>()
                .map_err(|e| PortError::Other(e.into()))?;
            Err(refused(status))
        })
        .await
    }

    async fn find_evaluation(&self, session_id: Uuid) -> PortResult<Option<Evaluation>> {
        let find = Stmt::new(concat!(
            "SELECT ",
            evaluation_columns!(),
            " FROM evaluations WHERE session_id = $1"
        ))
        .bind(session_id);
        self.call(
            "study_sessions.find_evaluation",
            self.optional(find, "evaluation", evaluation::<D>),
        )
        .await
    }
}
