//! Progress reporting: stages call a [`ProgressSink`] so the caller can persist progress.

use ainative_domain::{Progress, Stage};

/// Receives the progress of a running stage. Stages call it at most about twenty times per
/// stage, with non-decreasing values, from the thread running the stage; keep it cheap (e.g.
/// send to a channel that a task writes to Redis).
pub trait ProgressSink: Send + Sync {
    /// `stage` has done `progress` of its work.
    fn report(&self, stage: Stage, progress: Progress);
}

impl<F: Fn(Stage, Progress) + Send + Sync> ProgressSink for F {
    fn report(&self, stage: Stage, progress: Progress) {
        self(stage, progress)
    }
}

/// A sink that ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _stage: Stage, _progress: Progress) {}
}

/// Throttles one stage's reports to steps of 5 %.
pub(crate) struct StageProgress<'a> {
    sink: &'a dyn ProgressSink,
    stage: Stage,
    last: f32,
}

const STEP: f32 = 0.05;

impl<'a> StageProgress<'a> {
    pub(crate) fn new(sink: &'a dyn ProgressSink, stage: Stage) -> Self {
        Self {
            sink,
            stage,
            last: 0.0,
        }
    }

    /// Reports `done / total` when it moved by a step since the last report.
    pub(crate) fn fraction(&mut self, done: usize, total: usize) {
        let value = if total == 0 {
            1.0
        } else {
            (done as f32 / total as f32).min(1.0)
        };
        self.set(value);
    }

    pub(crate) fn set(&mut self, value: f32) {
        if value >= self.last + STEP || (value >= 1.0 && self.last < 1.0) {
            self.last = value;
            self.sink.report(self.stage, Progress::new(value));
        }
    }

    pub(crate) fn done(&mut self) {
        self.set(1.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn reports_are_throttled_monotonic_and_end_at_one() {
        let seen = Mutex::new(Vec::new());
        let sink = |stage: Stage, p: Progress| {
            assert_eq!(stage, Stage::Quality);
            seen.lock().expect("lock").push(p.value());
        };
        let mut progress = StageProgress::new(&sink, Stage::Quality);
        for i in 0..=1000 {
            progress.fraction(i, 1000);
        }
        progress.done();
        let seen = seen.into_inner().expect("lock");
        assert!(seen.len() <= 21, "{} reports", seen.len());
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(seen.last().copied(), Some(1.0));
    }
}
