//! Which language model answers a turn: the platform's, the student's own credential chosen
//! for the session (where `policies.allow_student_credentials`), or the activity owner's
//! (`policies.llm_credential_id`, SPEC §10.4).
//!
//! The credential row is read on every routed turn, so a suspension, a deletion or a limit
//! change applies to the next turn on every instance (no cache to expire). Each credential
//! gets its own [`LlmClient`]: its own provider (the user's endpoint, through the guarded
//! HTTP client), its own circuit breaker and retries, and its own cache namespace, so
//! answers obtained with one key never serve another. Clients are kept while the
//! credential's endpoint, model and sealed key stay the same; the key itself is opened only
//! for the duration of each provider call ([`SealedKey`]).
//!
//! Limits: `rate_limit_rpm` on the shared [`RateLimiter`] (global across instances), and
//! `max_concurrent_requests` as a per-instance semaphore; over either, 429.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ainative_domain::{Activity, CredentialStatus, LlmCredential, StudySession};
use ainative_ports::{
    Clock, LlmCredentialRepository, LlmError, RateLimiter, ResponseCache, SealedSecret,
    StoredCredential, UpstreamKind,
};
use parking_lot::Mutex;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::cipher::Keyring;
use super::endpoint::{check_base_url, guarded_client};
use crate::gateway::GatewayError;
use crate::llm::{
    ApiKey, KeySource, LanguageModel, LlmClient, LlmObserver, MeteredProvider, OpenAiProvider,
    ResilienceConfig, ResilientProvider,
};

/// Settings of credential routing.
#[derive(Debug, Clone)]
pub struct CredentialSettings {
    /// Requests per minute of a credential without its own limit; 0 = unlimited.
    pub default_rpm: u32,
    /// Concurrent requests of a credential without its own limit (per instance).
    pub default_concurrency: u32,
    /// Lets endpoints resolve to private, loopback and link-local addresses.
    pub allow_private: bool,
    /// Per-attempt timeout of a user's endpoint.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Life of a cached answer.
    pub cache_ttl: Duration,
}

impl Default for CredentialSettings {
    fn default() -> Self {
        Self {
            default_rpm: 60,
            default_concurrency: 4,
            allow_private: false,
            timeout: Duration::from_secs(30),
            max_retries: 1,
            cache_ttl: Duration::from_secs(3600),
        }
    }
}

/// Opens one credential's sealed key per provider call.
pub struct SealedKey {
    keyring: Arc<Keyring>,
    sealed: SealedSecret,
    id: Uuid,
    owner_id: Uuid,
}

impl SealedKey {
    /// The key of credential `id` of `owner_id`.
    pub fn new(keyring: Arc<Keyring>, sealed: SealedSecret, id: Uuid, owner_id: Uuid) -> Self {
        Self {
            keyring,
            sealed,
            id,
            owner_id,
        }
    }
}

impl KeySource for SealedKey {
    fn open(&self) -> Result<SecretString, LlmError> {
        self.keyring
            .open(&self.sealed, self.id, self.owner_id)
            .map_err(|e| {
                tracing::error!(credential = %self.id, error = %e, "cannot open a model credential");
                LlmError::upstream(UpstreamKind::InvalidRequest, "the credential cannot be opened")
            })
    }
}

/// What a routed turn holds: the model, and its slot of the credential's concurrency.
pub struct Routed {
    /// The credential's language model.
    pub llm: Arc<dyn LanguageModel>,
    /// Released when the turn (or its stream) ends.
    pub permit: OwnedSemaphorePermit,
    /// The credential.
    pub credential_id: Uuid,
}

type Fingerprint = [u8; 32];

/// Routes turns of activities that name a credential.
pub struct CredentialRouter {
    repo: Arc<dyn LlmCredentialRepository>,
    keyring: Arc<Keyring>,
    limiter: Arc<dyn RateLimiter>,
    cache: Arc<dyn ResponseCache>,
    observer: Option<Arc<dyn LlmObserver>>,
    clock: Arc<dyn Clock>,
    settings: CredentialSettings,
    http: reqwest::Client,
    clients: Mutex<HashMap<Uuid, (Fingerprint, Arc<LlmClient>)>>,
    gates: Mutex<HashMap<Uuid, (u32, Arc<Semaphore>)>>,
}

impl std::fmt::Debug for CredentialRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRouter")
            .field("settings", &self.settings)
            .field("clients", &self.clients.lock().len())
            .finish_non_exhaustive()
    }
}

/// The parts a [`CredentialRouter`] is built from.
pub struct RouterParts {
    /// Credential storage.
    pub repo: Arc<dyn LlmCredentialRepository>,
    /// Keys.
    pub keyring: Arc<Keyring>,
    /// The shared limiter (per-credential rpm).
    pub limiter: Arc<dyn RateLimiter>,
    /// The shared response cache.
    pub cache: Arc<dyn ResponseCache>,
    /// Receives every provider call (`credential="own"`).
    pub observer: Option<Arc<dyn LlmObserver>>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

impl CredentialRouter {
    /// A router; fails only when the HTTP client cannot be built.
    pub fn new(parts: RouterParts, settings: CredentialSettings) -> Result<Self, String> {
        let http =
            guarded_client(settings.timeout, settings.allow_private).map_err(|e| e.to_string())?;
        Ok(Self {
            repo: parts.repo,
            keyring: parts.keyring,
            limiter: parts.limiter,
            cache: parts.cache,
            observer: parts.observer,
            clock: parts.clock,
            settings,
            http,
            clients: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        })
    }

    /// The model of a turn of `session` on `activity`: `None` for the platform's, else the
    /// student's own credential chosen for the session (where the activity allows student
    /// credentials), else the activity owner's (`policies.llm_credential_id`).
    ///
    /// A named credential that is suspended, gone or not its owner's is skipped; when none
    /// is usable the platform answers, unless the activity requires its own credential.
    ///
    /// Errors: [`GatewayError::OwnCredentialUnavailable`] when no named credential is usable
    /// and the activity requires one; [`GatewayError::CredentialLimited`] over its rpm or
    /// concurrency.
    pub async fn route(
        &self,
        activity: &Activity,
        session: &StudySession,
    ) -> Result<Option<Routed>, GatewayError> {
        let policies = &activity.content.policies;
        let student = session
            .llm_credential_id
            .filter(|_| policies.allow_student_credentials)
            .map(|id| (id, session.student_id));
        let owner = policies.llm_credential_id.map(|id| (id, activity.owner_id));
        let named = student.is_some() || owner.is_some();
        for (id, owner_id) in student.into_iter().chain(owner) {
            if let Some(stored) = self.usable(id, owner_id).await? {
                let permit = self.admit(&stored.credential).await?;
                if let Err(e) = self.repo.record_use(id, self.clock.now()).await {
                    tracing::warn!(credential = %id, error = %e, "credential use not counted");
                }
                return Ok(Some(Routed {
                    llm: self.client(&stored),
                    permit,
                    credential_id: id,
                }));
            }
            tracing::info!(credential = %id, activity = %activity.id, session = %session.id,
                "own credential not usable; the next choice answers");
        }
        if named && policies.require_own_credential {
            return Err(GatewayError::OwnCredentialUnavailable);
        }
        Ok(None)
    }

    /// Credential `id` when it exists, belongs to `owner_id`, is active and its endpoint is
    /// still allowed.
    async fn usable(
        &self,
        id: Uuid,
        owner_id: Uuid,
    ) -> Result<Option<StoredCredential>, GatewayError> {
        Ok(self
            .repo
            .find(id)
            .await?
            .filter(|s| s.credential.owner_id == owner_id)
            .filter(|s| s.credential.status == CredentialStatus::Active)
            .filter(|s| {
                check_base_url(&s.credential.base_url, self.settings.allow_private).is_ok()
            }))
    }

    /// Applies the credential's limits: rpm on the shared limiter, then a concurrency slot.
    async fn admit(
        &self,
        credential: &LlmCredential,
    ) -> Result<OwnedSemaphorePermit, GatewayError> {
        let rpm = credential
            .rate_limit_rpm
            .unwrap_or(self.settings.default_rpm);
        if rpm > 0 {
            let key = format!("llmcred:{}", credential.id);
            match self.limiter.check(&key, rpm, Duration::from_secs(60)).await {
                Ok(decision) if !decision.allowed => {
                    return Err(GatewayError::CredentialLimited {
                        retry_after_secs: decision.reset_secs.max(1),
                    })
                }
                Ok(_) => {}
                // The limiter protects the user's quota, not us: fail open, loudly.
                Err(e) => tracing::warn!(error = %e, "credential rate limit not checked"),
            }
        }
        let max = credential
            .max_concurrent_requests
            .unwrap_or(self.settings.default_concurrency)
            .max(1);
        let gate = {
            let mut gates = self.gates.lock();
            let entry = gates
                .entry(credential.id)
                .or_insert_with(|| (max, Arc::new(Semaphore::new(max as usize))));
            if entry.0 != max {
                // A changed limit: a new gate (turns holding the old one finish on it).
                *entry = (max, Arc::new(Semaphore::new(max as usize)));
            }
            Arc::clone(&entry.1)
        };
        gate.try_acquire_owned()
            .map_err(|_| GatewayError::CredentialLimited {
                retry_after_secs: 1,
            })
    }

    fn fingerprint(credential: &LlmCredential, sealed: &SealedSecret) -> Fingerprint {
        let mut hasher = Sha256::new();
        for part in [
            credential.base_url.as_str(),
            credential.model.as_str(),
            sealed.ciphertext.as_str(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize().into()
    }

    /// The client of a credential, kept while its endpoint, model and key stay the same.
    fn client(&self, stored: &StoredCredential) -> Arc<dyn LanguageModel> {
        let credential = &stored.credential;
        let fingerprint = Self::fingerprint(credential, &stored.sealed);
        let mut clients = self.clients.lock();
        if let Some((known, client)) = clients.get(&credential.id) {
            if *known == fingerprint {
                return Arc::clone(client) as Arc<dyn LanguageModel>;
            }
        }
        let client = Arc::new(build_client(
            self.http.clone(),
            Arc::clone(&self.keyring),
            stored,
            &self.settings,
            Arc::clone(&self.cache),
            self.observer.clone(),
            Some(&fingerprint),
        ));
        clients.insert(credential.id, (fingerprint, Arc::clone(&client)));
        client
    }

    /// The HTTP client of user endpoints (for verification calls).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The keys.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// The settings.
    pub fn settings(&self) -> &CredentialSettings {
        &self.settings
    }

    /// The observer of provider calls.
    pub fn observer(&self) -> Option<Arc<dyn LlmObserver>> {
        self.observer.clone()
    }
}

/// A credential's client: its endpoint with its sealed key, metered as `own`, its own
/// breaker and retries, and the response cache under its own namespace (`None`: answers are
/// not cached, for one-off verification calls).
pub(crate) fn build_client(
    http: reqwest::Client,
    keyring: Arc<Keyring>,
    stored: &StoredCredential,
    settings: &CredentialSettings,
    cache: Arc<dyn ResponseCache>,
    observer: Option<Arc<dyn LlmObserver>>,
    namespace: Option<&Fingerprint>,
) -> LlmClient {
    let credential = &stored.credential;
    let key = SealedKey::new(
        keyring,
        stored.sealed.clone(),
        credential.id,
        credential.owner_id,
    );
    let mut provider: Arc<dyn ainative_ports::LlmProvider> = Arc::new(OpenAiProvider::with_client(
        http,
        &credential.base_url,
        &credential.model,
        ApiKey::Sealed(Arc::new(key)),
        settings.timeout,
    ));
    if let Some(observer) = observer {
        provider = Arc::new(MeteredProvider::own(provider, observer));
    }
    let resilient = Arc::new(ResilientProvider::new(
        provider,
        ResilienceConfig {
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            ..ResilienceConfig::default()
        },
    ));
    let ttl = if namespace.is_some() {
        settings.cache_ttl
    } else {
        Duration::ZERO
    };
    let client = LlmClient::new(resilient, cache, ttl);
    match namespace {
        Some(fingerprint) => client.with_namespace(format!(
            "cred:{}:{}",
            credential.id,
            hex::encode(&fingerprint[..8])
        )),
        None => client.with_namespace(format!("verify:{}", Uuid::new_v4())),
    }
}
