use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tutoring::wire_enum;

/// The processing stages of a material, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Parse, normalise and split into overlapping chunks.
    Ingestion,
    /// Drop empty, duplicated and unreadable chunks; detect the language; score.
    Quality,
    /// Key concepts and suggested tags.
    Taxonomy,
    /// The concept co-occurrence graph.
    Graph,
    /// The retrieval index (lexical by default) or a vector per chunk.
    Embedding,
}
wire_enum!(Stage {
    Ingestion => "ingestion",
    Quality => "quality",
    Taxonomy => "taxonomy",
    Graph => "graph",
    Embedding => "embedding",
});

impl Stage {
    /// Position in [`Stage::ALL`] (0 for ingestion … 4 for embedding).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stage that runs after this one, if any.
    pub fn next(self) -> Option<Stage> {
        Self::ALL.get(self.index() + 1).copied()
    }
}

/// Where a stage (or, through [`overall_status`], a whole material) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageStatus {
    /// Not started.
    Pending,
    /// Running (or its worker died and the job will be picked up again).
    Processing,
    /// Done; its output is stored.
    Completed,
    /// Gave up; `error` says why.
    Failed,
}
wire_enum!(StageStatus {
    Pending => "pending",
    Processing => "processing",
    Completed => "completed",
    Failed => "failed",
});

/// The overall status of a material from its stages' statuses (SPEC §10.5): `failed` if any
/// stage failed, else `completed` if all completed, else `pending` if none has started, else
/// `processing`. So a material is never `completed` while a later stage waits. An empty list
/// (no stage known) is `pending`.
pub fn overall_status<I: IntoIterator<Item = StageStatus>>(statuses: I) -> StageStatus {
    let (mut any, mut all_completed, mut all_pending) = (false, true, true);
    for status in statuses {
        any = true;
        match status {
            StageStatus::Failed => return StageStatus::Failed,
            StageStatus::Completed => all_pending = false,
            StageStatus::Processing => {
                all_pending = false;
                all_completed = false;
            }
            StageStatus::Pending => all_completed = false,
        }
    }
    if !any || all_pending {
        StageStatus::Pending
    } else if all_completed {
        StageStatus::Completed
    } else {
        StageStatus::Processing
    }
}

/// How far a stage got, in `0.0..=1.0`. Out-of-range values are clamped and NaN is 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(from = "f32", into = "f32")]
pub struct Progress(f32);

impl Progress {
    /// Nothing done.
    pub const NONE: Progress = Progress(0.0);
    /// All done.
    pub const DONE: Progress = Progress(1.0);

    /// `value` clamped to `0.0..=1.0` (NaN becomes 0).
    pub fn new(value: f32) -> Self {
        if value.is_nan() {
            Self(0.0)
        } else {
            Self(value.clamp(0.0, 1.0))
        }
    }

    /// The fraction done.
    pub fn value(self) -> f32 {
        self.0
    }
}

impl From<f32> for Progress {
    fn from(value: f32) -> Self {
        Self::new(value)
    }
}

impl From<Progress> for f32 {
    fn from(progress: Progress) -> Self {
        progress.0
    }
}

/// The status record of one stage, as `GET /materials/{id}/status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// Which stage.
    pub stage: Stage,
    /// Where it stands.
    pub status: StageStatus,
    /// Fraction done (1 when completed).
    pub progress: Progress,
    /// When the current (or last) attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, in words an instructor can act on.
    pub error: Option<String>,
}

impl StageRecord {
    /// A stage that has not started.
    pub fn pending(stage: Stage) -> Self {
        Self {
            stage,
            status: StageStatus::Pending,
            progress: Progress::NONE,
            started_at: None,
            finished_at: None,
            error: None,
        }
    }
}

/// A stage transition that breaks the order of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageTransitionError {
    /// A stage cannot start before every earlier stage completed.
    #[error("stage {stage} cannot start before {waiting_on} completes")]
    EarlierStageIncomplete {
        /// The stage asked to start.
        stage: Stage,
        /// The first earlier stage not completed.
        waiting_on: Stage,
    },
    /// The stage completed already; its output stands (run the next one).
    #[error("stage {0} is already completed")]
    AlreadyCompleted(Stage),
    /// Progress or completion reported for a stage that is not processing.
    #[error("stage {stage} is {status}, not processing")]
    NotProcessing {
        /// The stage.
        stage: Stage,
        /// Its status.
        status: StageStatus,
    },
    /// Stored records must name each stage exactly once, in order.
    #[error("stage records must list each of the five stages once, in order")]
    MalformedRecords,
}

/// The status of every stage of one material, in pipeline order, with the transitions a
/// worker makes. A stage starts only after every earlier one completed; a stage that was
/// processing when its worker died (or that failed and is retried by hand) starts again from
/// its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<StageRecord>", into = "Vec<StageRecord>")]
pub struct MaterialStatus {
    stages: [StageRecord; 5],
}

impl Default for MaterialStatus {
    fn default() -> Self {
        Self::new()
    }
}

impl MaterialStatus {
    /// Every stage pending (a material just uploaded).
    pub fn new() -> Self {
        Self {
            stages: [
                Stage::Ingestion,
                Stage::Quality,
                Stage::Taxonomy,
                Stage::Graph,
                Stage::Embedding,
            ]
            .map(StageRecord::pending),
        }
    }

    /// From stored records; fails unless they name the five stages once each, in order.
    pub fn from_records(records: Vec<StageRecord>) -> Result<Self, StageTransitionError> {
        let stages: [StageRecord; 5] = records
            .try_into()
            .map_err(|_| StageTransitionError::MalformedRecords)?;
        if stages.iter().zip(Stage::ALL).any(|(r, s)| r.stage != *s) {
            return Err(StageTransitionError::MalformedRecords);
        }
        Ok(Self { stages })
    }

    /// The records, in pipeline order.
    pub fn records(&self) -> &[StageRecord] {
        &self.stages
    }

    /// The record of `stage`.
    pub fn stage(&self, stage: Stage) -> &StageRecord {
        &self.stages[stage.index()]
    }

    /// The overall status by the rule of [`overall_status`].
    pub fn overall(&self) -> StageStatus {
        overall_status(self.stages.iter().map(|r| r.status))
    }

    /// The first stage that is not completed: where a (re)started job resumes. `None` when
    /// every stage completed.
    pub fn next_stage(&self) -> Option<Stage> {
        self.stages
            .iter()
            .find(|r| r.status != StageStatus::Completed)
            .map(|r| r.stage)
    }

    /// Starts (or restarts) `stage` at `now`: progress back to 0, error cleared. Allowed from
    /// pending, processing (its worker died) and failed (a retry); refused while an earlier
    /// stage is not completed or when `stage` completed already.
    pub fn start(&mut self, stage: Stage, now: DateTime<Utc>) -> Result<(), StageTransitionError> {
        self.check_earlier_completed(stage)?;
        let record = &mut self.stages[stage.index()];
        if record.status == StageStatus::Completed {
            return Err(StageTransitionError::AlreadyCompleted(stage));
        }
        *record = StageRecord {
            status: StageStatus::Processing,
            started_at: Some(now),
            ..StageRecord::pending(stage)
        };
        Ok(())
    }

    /// Records progress of a processing stage; progress never goes backwards within an
    /// attempt.
    pub fn advance(
        &mut self,
        stage: Stage,
        progress: Progress,
    ) -> Result<(), StageTransitionError> {
        let record = self.processing_mut(stage)?;
        if progress > record.progress {
            record.progress = progress;
        }
        Ok(())
    }

    /// Marks a processing stage completed at `now` (progress 1).
    pub fn complete(
        &mut self,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> Result<(), StageTransitionError> {
        let record = self.processing_mut(stage)?;
        record.status = StageStatus::Completed;
        record.progress = Progress::DONE;
        record.finished_at = Some(now);
        Ok(())
    }

    /// Marks a pending or processing stage failed at `now` with an instructor-readable
    /// `error` (every earlier stage must have completed). Later stages stay pending.
    pub fn fail(
        &mut self,
        stage: Stage,
        now: DateTime<Utc>,
        error: impl Into<String>,
    ) -> Result<(), StageTransitionError> {
        self.check_earlier_completed(stage)?;
        let record = &mut self.stages[stage.index()];
        if matches!(record.status, StageStatus::Completed | StageStatus::Failed) {
            return Err(StageTransitionError::NotProcessing {
                stage,
                status: record.status,
            });
        }
        record.status = StageStatus::Failed;
        record.finished_at = Some(now);
        record.error = Some(error.into());
        Ok(())
    }

    fn check_earlier_completed(&self, stage: Stage) -> Result<(), StageTransitionError> {
        match self.stages[..stage.index()]
            .iter()
            .find(|r| r.status != StageStatus::Completed)
        {
            Some(earlier) => Err(StageTransitionError::EarlierStageIncomplete {
                stage,
                waiting_on: earlier.stage,
            }),
            None => Ok(()),
        }
    }

    fn processing_mut(&mut self, stage: Stage) -> Result<&mut StageRecord, StageTransitionError> {
        let record = &mut self.stages[stage.index()];
        if record.status != StageStatus::Processing {
            return Err(StageTransitionError::NotProcessing {
                stage,
                status: record.status,
            });
        }
        Ok(record)
    }
}

impl TryFrom<Vec<StageRecord>> for MaterialStatus {
    type Error = StageTransitionError;
    fn try_from(records: Vec<StageRecord>) -> Result<Self, Self::Error> {
        Self::from_records(records)
    }
}

impl From<MaterialStatus> for Vec<StageRecord> {
    fn from(status: MaterialStatus) -> Self {
        status.stages.into()
    }
}

#[cfg(test)]
mod tests;
