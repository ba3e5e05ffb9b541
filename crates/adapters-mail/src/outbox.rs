//! [`InProcessOutbox`]: mail off the request path, with retries, in this process.
//!
//! A bounded queue feeds a worker that sends a few messages at a time; a send that fails
//! with a retryable error is queued again after an exponential back-off. What is still
//! queued when the process stops is lost (the job queue of SPEC §10.5 is the durable
//! alternative; see docs/decisions.md).

use std::sync::Arc;
use std::time::Duration;

use ainative_ports::{Cause, MailError, MailOutbox, Mailer, OutgoingMail, PortError, PortResult};
use async_trait::async_trait;
use tokio::sync::{mpsc, Semaphore};

use crate::message::mask_address;

/// Bounds of the outbox.
#[derive(Debug, Clone, Copy)]
pub struct OutboxConfig {
    /// Messages waiting at most; beyond, `enqueue` fails at once (it never waits).
    pub capacity: usize,
    /// Sends in flight at most.
    pub concurrency: usize,
    /// Attempts per message, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles per attempt.
    pub first_retry: Duration,
    /// Longest delay between two attempts.
    pub max_retry: Duration,
}

impl Default for OutboxConfig {
    /// 1,000 waiting, 4 in flight, 10 attempts over about 8 minutes (1 s doubling, at most
    /// 2 minutes apart).
    fn default() -> Self {
        Self {
            capacity: 1_000,
            concurrency: 4,
            max_attempts: 10,
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(120),
        }
    }
}

impl OutboxConfig {
    /// The delay before attempt `attempt + 1` (attempts count from 0).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.min(30));
        self.first_retry.saturating_mul(factor).min(self.max_retry)
    }
}

struct Queued {
    mail: OutgoingMail,
    attempt: u32,
}

/// The in-process [`MailOutbox`]. Cloning shares the queue.
#[derive(Clone)]
pub struct InProcessOutbox {
    queue: mpsc::Sender<Queued>,
}

impl InProcessOutbox {
    /// Starts the worker on the current Tokio runtime. It stops when every clone of the
    /// outbox is dropped and no retry is pending.
    pub fn spawn(mailer: Arc<dyn Mailer>, config: OutboxConfig) -> Self {
        let (queue, receiver) = mpsc::channel(config.capacity.max(1));
        tokio::spawn(work(receiver, queue.downgrade(), mailer, config));
        Self { queue }
    }
}

#[async_trait]
impl MailOutbox for InProcessOutbox {
    async fn enqueue(&self, mail: OutgoingMail) -> PortResult<()> {
        self.queue
            .try_send(Queued { mail, attempt: 0 })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    PortError::Unavailable(Cause::new("the mail outbox is full"))
                }
                mpsc::error::TrySendError::Closed(_) => {
                    PortError::Unavailable(Cause::new("the mail outbox is stopped"))
                }
            })
    }
}

async fn work(
    mut receiver: mpsc::Receiver<Queued>,
    requeue: mpsc::WeakSender<Queued>,
    mailer: Arc<dyn Mailer>,
    config: OutboxConfig,
) {
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    while let Some(queued) = receiver.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let mailer = mailer.clone();
        let requeue = requeue.clone();
        tokio::spawn(async move {
            let outcome = mailer.send(&queued.mail).await;
            drop(permit);
            deliver_outcome(outcome, queued, requeue, config).await;
        });
    }
}

async fn deliver_outcome(
    outcome: Result<(), MailError>,
    queued: Queued,
    requeue: mpsc::WeakSender<Queued>,
    config: OutboxConfig,
) {
    let to = mask_address(&queued.mail.to);
    let template = queued.mail.template.clone();
    let attempt = queued.attempt + 1;
    match outcome {
        Ok(()) => tracing::info!(%to, %template, attempt, "mail delivered"),
        Err(err) if err.is_retryable() && attempt < config.max_attempts => {
            let delay = config.backoff(queued.attempt);
            tracing::warn!(%to, %template, attempt, retry_in_ms = delay.as_millis() as u64,
                error = %ainative_ports::error_chain(&err), "mail delivery failed; will retry");
            tokio::time::sleep(delay).await;
            let again = Queued {
                mail: queued.mail,
                attempt,
            };
            if requeue.upgrade().is_none_or(|q| q.try_send(again).is_err()) {
                tracing::error!(%to, %template, attempt, "mail dropped: the outbox is full or stopped");
            }
        }
        Err(err) => tracing::error!(%to, %template, attempt,
            error = %ainative_ports::error_chain(&err), "mail dropped"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use ainative_ports::MockMailer;

    fn mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            to: to.into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            template: "verify_email".into(),
        }
    }

    fn quick() -> OutboxConfig {
        OutboxConfig {
            capacity: 4,
            concurrency: 2,
            max_attempts: 3,
            first_retry: Duration::from_millis(10),
            max_retry: Duration::from_millis(40),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = OutboxConfig::default();
        assert_eq!(config.backoff(0), Duration::from_secs(1));
        assert_eq!(config.backoff(3), Duration::from_secs(8));
        assert_eq!(config.backoff(20), Duration::from_secs(120));
        assert_eq!(config.backoff(u32::MAX), Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_until_delivered() {
        let calls = Arc::new(AtomicU32::new(0));
        let seen = calls.clone();
        let (done, mut delivered) = mpsc::unbounded_channel();
        let mut mailer = MockMailer::new();
        mailer.expect_send().times(3).returning(move |m| {
            if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(MailError::Unavailable(Cause::new("connection refused")))
            } else {
                let _ = done.send(m.to.clone());
                Ok(())
            }
        });
        let outbox = InProcessOutbox::spawn(Arc::new(mailer), quick());
        outbox.enqueue(mail("ada@example.com")).await.unwrap();
        assert_eq!(delivered.recv().await.as_deref(), Some("ada@example.com"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_and_on_rejection() {
        let calls = Arc::new(AtomicU32::new(0));
        let seen = calls.clone();
        let mut mailer = MockMailer::new();
        mailer.expect_send().returning(move |m| {
            seen.fetch_add(1, Ordering::SeqCst);
            if m.to.starts_with("rejected") {
                Err(MailError::Rejected(Cause::new("550 no such user")))
            } else {
                Err(MailError::Unavailable(Cause::new("down")))
            }
        });
        let outbox = InProcessOutbox::spawn(Arc::new(mailer), quick());
        outbox.enqueue(mail("rejected@example.com")).await.unwrap();
        outbox.enqueue(mail("down@example.com")).await.unwrap();
        // Paused clock: sleeping far past every back-off lets all attempts run.
        tokio::time::sleep(Duration::from_secs(10)).await;
        // One attempt for the rejected message, three for the unreachable one.
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let mut mailer = MockMailer::new();
        // Never completes while the test runs: the worker holds the first messages.
        mailer.expect_send().returning(|_| {
            std::thread::sleep(Duration::from_millis(1));
            Err(MailError::Rejected(Cause::new("x")))
        });
        let (queue, _receiver) = mpsc::channel(1);
        let outbox = InProcessOutbox { queue };
        outbox.enqueue(mail("a@example.com")).await.unwrap();
        let err = outbox.enqueue(mail("b@example.com")).await.unwrap_err();
        assert!(err.is_unavailable());
        drop(mailer);
    }
}
