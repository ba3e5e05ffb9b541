//! [`StudySessionRepository`] on PostgreSQL: study sessions and their evaluations.

use ainative_domain::{Evaluation, Page, Paginated, SessionStatus, StudySession};
use ainative_ports::{
    PortError, PortResult, SessionFilter, SessionVisibility, StudySessionRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{count, offset};
use crate::error::map_err;
use crate::store::PgStore;
use crate::tutoring_rows::{
    convert, evaluation_columns, study_session_columns, to_json, EvaluationRow, StudySessionRow,
};

/// The list filter: `$1` is the involved user (or NULL for all), `$2` the status (or NULL),
/// `$3` the activity (or NULL).
const LIST_FILTER: &str = "WHERE ($1::UUID IS NULL OR s.student_id = $1 OR EXISTS \
     (SELECT 1 FROM activities a WHERE a.id = s.activity_id AND a.owner_id = $1)) \
     AND ($2::TEXT IS NULL OR s.status = $2) \
     AND ($3::UUID IS NULL OR s.activity_id = $3)";

/// Why a session could not be changed: it does not exist or it is not active.
async fn not_active_or_missing(conn: &mut PgConnection, id: Uuid) -> PortResult<PortError> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM study_sessions WHERE id = $1)")
            .bind(id)
            .fetch_one(conn)
            .await
            .map_err(map_err)?;
    Ok(if exists {
        PortError::Conflict(ainative_ports::Conflict::SessionNotActive)
    } else {
        PortError::NotFound
    })
}

async fn insert_evaluation(conn: &mut PgConnection, evaluation: &Evaluation) -> PortResult<()> {
    sqlx::query(
        "INSERT INTO evaluations (id, session_id, student_id, overall_score, competency_level, \
         dimensions, ai_dependency_score, key_strengths, improvement_areas, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(evaluation.id)
    .bind(evaluation.session_id)
    .bind(evaluation.student_id)
    .bind(evaluation.overall_score)
    .bind(evaluation.competency_level.as_str())
    .bind(to_json("dimensions", &evaluation.dimensions)?)
    .bind(evaluation.ai_dependency_score)
    .bind(to_json("key strengths", &evaluation.key_strengths)?)
    .bind(to_json("improvement areas", &evaluation.improvement_areas)?)
    .bind(evaluation.created_at)
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl StudySessionRepository for PgStore {
    #[tracing::instrument(name = "db.study_sessions.create", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn create(&self, session: StudySession) -> PortResult<StudySession> {
        let row: StudySessionRow = sqlx::query_as(concat!(
            "INSERT INTO study_sessions (id, student_id, activity_id, mode, simulator_type, \
             status, interaction_count, started_at, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
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
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        StudySession::try_from(row)
    }

    #[tracing::instrument(name = "db.study_sessions.find", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find(&self, id: Uuid) -> PortResult<Option<StudySession>> {
        let row: Option<StudySessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            study_session_columns!(),
            " FROM study_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(StudySession::try_from).transpose()
    }

    #[tracing::instrument(name = "db.study_sessions.list", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn list(
        &self,
        filter: &SessionFilter,
        page: Page,
    ) -> PortResult<Paginated<StudySession>> {
        let involving = match filter.visibility {
            SessionVisibility::All => None,
            SessionVisibility::Involving(user) => Some(user),
        };
        let status = filter.status.map(|s| s.as_str());
        let rows: Vec<StudySessionRow> = sqlx::query_as(&format!(
            "SELECT {} FROM study_sessions s {LIST_FILTER} \
             ORDER BY s.started_at DESC, s.id DESC LIMIT $4 OFFSET $5",
            study_session_columns!()
        ))
        .bind(involving)
        .bind(status)
        .bind(filter.activity_id)
        .bind(i64::from(page.limit()))
        .bind(offset(page))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM study_sessions s {LIST_FILTER}"
        ))
        .bind(involving)
        .bind(status)
        .bind(filter.activity_id)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(Paginated::new(convert(rows)?, count(total), page))
    }

    #[tracing::instrument(name = "db.study_sessions.end", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn end(
        &self,
        id: Uuid,
        status: SessionStatus,
        ended_at: DateTime<Utc>,
        evaluation: Evaluation,
    ) -> PortResult<StudySession> {
        if status == SessionStatus::Active {
            return Err(PortError::Other(
                (format!("session {id} cannot be ended with status active")).into(),
            ));
        }
        if evaluation.session_id != id {
            return Err(PortError::Other(
                (format!(
                    "the evaluation of session {id} names session {}",
                    evaluation.session_id
                ))
                .into(),
            ));
        }
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // The row lock taken here serialises concurrent ends: the loser re-checks the status.
        let row: Option<StudySessionRow> = sqlx::query_as(concat!(
            "UPDATE study_sessions SET status = $2, ended_at = $3 \
             WHERE id = $1 AND status = 'active' RETURNING ",
            study_session_columns!()
        ))
        .bind(id)
        .bind(status.as_str())
        .bind(ended_at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            return Err(not_active_or_missing(&mut tx, id).await?);
        };
        let session = StudySession::try_from(row)?;
        insert_evaluation(&mut tx, &evaluation).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(session)
    }

    #[tracing::instrument(name = "db.study_sessions.find_evaluation", level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find_evaluation(&self, session_id: Uuid) -> PortResult<Option<Evaluation>> {
        let row: Option<EvaluationRow> = sqlx::query_as(concat!(
            "SELECT ",
            evaluation_columns!(),
            " FROM evaluations WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(Evaluation::try_from).transpose()
    }
}
