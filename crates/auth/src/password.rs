use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{OnceCell, Semaphore};

use crate::AuthError;

/// Hashes and verifies passwords. A trait so services can be tested without bcrypt's cost.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a password (already checked against the policy).
    async fn hash(&self, password: &str) -> Result<String, AuthError>;

    /// True when `password` matches `hash`.
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, AuthError>;

    /// Spends the same effort as a real verification, for logins of unknown accounts, so
    /// timing does not reveal whether an account exists.
    async fn verify_dummy(&self, password: &str) -> Result<(), AuthError>;
}

/// bcrypt on the blocking thread pool, with bounded concurrency so a login storm queues
/// instead of starving the request workers.
#[derive(Debug, Clone)]
pub struct BcryptHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    dummy: Arc<OnceCell<String>>,
}

impl BcryptHasher {
    /// A hasher with the given cost (4..=31) and at most `concurrency` hashes at once.
    pub fn new(cost: u32, concurrency: usize) -> Self {
        Self {
            cost,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AuthError::Internal(Box::new(e)))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Internal(Box::new(e)))?
            .map_err(|e| AuthError::Internal(Box::new(e)))
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let password = password.to_owned();
        let cost = self.cost;
        self.run(move || bcrypt::hash(password, cost)).await
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, AuthError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        self.run(move || bcrypt::verify(password, &hash)).await
    }

    async fn verify_dummy(&self, password: &str) -> Result<(), AuthError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| self.hash("dummy-password-for-timing"))
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let hasher = BcryptHasher::new(4, 2);
        let hash = hasher.hash("Correct7Horse").await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify("Correct7Horse", &hash).await.unwrap());
        assert!(!hasher.verify("Correct7Horsf", &hash).await.unwrap());
        hasher.verify_dummy("anything").await.unwrap();
    }
}
