//! Any OpenID Connect provider: discovery, the authorization-code flow with PKCE and nonce,
//! and ID tokens verified against the issuer's JWKS.

use ainative_ports::{
    AuthorizationStart, Cause, IdentityProvider, ProviderError, ProviderIdentity,
};
use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::AuthType;
use serde::Deserialize;
use tokio::sync::{OnceCell, RwLock};

use crate::client::{json_of, unreachable, CodeFlow};
use crate::ClientCredentials;

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
const LEEWAY_SECS: u64 = 60;

/// Algorithms an ID token may be signed with: asymmetric only (never HS*, never `none`).
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The fields of `/.well-known/openid-configuration` we use.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

/// The claims of an ID token (or a userinfo answer) we read.
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean, or the strings "true"/"false" some providers send.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
}

fn verified(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}

/// An OpenID Connect provider found by discovery from its issuer.
pub struct OidcProvider {
    issuer: String,
    /// Other spellings of the issuer accepted in `iss` (Google: `accounts.google.com`).
    issuer_aliases: Vec<String>,
    credentials: ClientCredentials,
    http: reqwest::Client,
    discovered: OnceCell<(Discovery, CodeFlow)>,
    keys: RwLock<Option<JwkSet>>,
}

impl OidcProvider {
    /// A provider for `issuer` (no trailing slash needed); discovery happens at first use,
    /// and is retried while it fails.
    pub fn new(issuer: &str, credentials: ClientCredentials, http: reqwest::Client) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            issuer_aliases: Vec::new(),
            credentials,
            http,
            discovered: OnceCell::new(),
            keys: RwLock::new(None),
        }
    }

    /// Google: the issuer `https://accounts.google.com`, whose tokens may also say
    /// `accounts.google.com`.
    pub fn google(issuer: &str, credentials: ClientCredentials, http: reqwest::Client) -> Self {
        let mut provider = Self::new(issuer, credentials, http);
        if let Some(host) = provider.issuer.strip_prefix("https://") {
            provider.issuer_aliases.push(host.to_owned());
        }
        provider
    }

    async fn discovered(&self) -> Result<&(Discovery, CodeFlow), ProviderError> {
        self.discovered
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.issuer);
                let response = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| unreachable("OIDC discovery unreachable", e))?;
                let doc: Discovery = json_of("OIDC discovery", response)
                    .await
                    .map_err(as_unavailable)?;
                // OIDC Discovery §4.3: the document must name the issuer it was fetched for.
                if doc.issuer.trim_end_matches('/') != self.issuer {
                    return Err(ProviderError::Unavailable(Cause::new(format!(
                        "discovery names issuer {} instead of {}",
                        doc.issuer, self.issuer
                    ))));
                }
                let flow = CodeFlow::new(
                    &self.credentials,
                    &doc.authorization_endpoint,
                    &doc.token_endpoint,
                    &["openid", "email", "profile"],
                    AuthType::BasicAuth,
                )?;
                Ok((doc, flow))
            })
            .await
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> Result<JwkSet, ProviderError> {
        let response = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .map_err(|e| unreachable("JWKS unreachable", e))?;
        let keys: JwkSet = json_of("JWKS", response).await.map_err(as_unavailable)?;
        *self.keys.write().await = Some(keys.clone());
        Ok(keys)
    }

    /// The decoding key for `kid`, refreshing the cached key set once when it is unknown
    /// (the provider rotated its keys).
    async fn key_for(
        &self,
        jwks_uri: &str,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, ProviderError> {
        let cached = self.keys.read().await.clone();
        let keys = match cached {
            Some(keys) if pick(&keys, kid).is_some() => keys,
            _ => self.fetch_keys(jwks_uri).await?,
        };
        let jwk = pick(&keys, kid).ok_or_else(|| {
            ProviderError::InvalidIdToken("signed with a key the provider does not publish".into())
        })?;
        if let Some(key_alg) = jwk.common.key_algorithm {
            // Both serialise to their JOSE name ("RS256").
            if serde_json::to_value(key_alg).ok() != serde_json::to_value(alg).ok() {
                return Err(ProviderError::InvalidIdToken(
                    "the token's algorithm is not its key's".into(),
                ));
            }
        }
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(ProviderError::InvalidIdToken(
                "symmetric keys are not accepted".into(),
            ));
        }
        DecodingKey::from_jwk(jwk)
            .map_err(|e| ProviderError::InvalidIdToken(format!("unusable provider key: {e}")))
    }

    async fn verify_id_token(
        &self,
        discovery: &Discovery,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<IdClaims, ProviderError> {
        let invalid = |what: String| ProviderError::InvalidIdToken(what);
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("malformed: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let key = self
            .key_for(&discovery.jwks_uri, header.kid.as_deref(), header.alg)
            .await?;
        let mut validation = Validation::new(header.alg);
        let mut issuers = vec![self.issuer.clone()];
        issuers.extend(self.issuer_aliases.iter().cloned());
        validation.set_issuer(&issuers);
        validation.set_audience(&[self.credentials.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| invalid(e.to_string()))?
            .claims;
        if claims.nonce.as_deref() != nonce {
            return Err(invalid("nonce does not match the request".into()));
        }
        if claims
            .azp
            .as_deref()
            .is_some_and(|azp| azp != self.credentials.client_id)
        {
            return Err(invalid("authorized party is another client".into()));
        }
        Ok(claims)
    }

    /// Fills in the e-mail address from the userinfo endpoint when the ID token has none.
    async fn userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
        subject: &str,
    ) -> Result<Option<IdClaims>, ProviderError> {
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| unreachable("userinfo unreachable", e))?;
        let info: IdClaims = json_of("userinfo", response).await?;
        // OIDC Core §5.3.2: a userinfo answer for another subject must not be used.
        Ok((info.sub == subject).then_some(info))
    }
}

fn pick<'k>(keys: &'k JwkSet, kid: Option<&str>) -> Option<&'k jsonwebtoken::jwk::Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

fn as_unavailable(err: ProviderError) -> ProviderError {
    match err {
        ProviderError::Rejected(text) => ProviderError::Unavailable(Cause::new(text)),
        other => other,
    }
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    async fn start(&self, callback_url: &str) -> Result<AuthorizationStart, ProviderError> {
        let (_, flow) = self.discovered().await?;
        flow.start(callback_url, true)
    }

    async fn identify(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: Option<String>,
        callback_url: &str,
    ) -> Result<ProviderIdentity, ProviderError> {
        let (discovery, flow) = self.discovered().await?;
        let tokens = flow
            .exchange(&self.http, code, pkce_verifier, callback_url)
            .await?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| ProviderError::Rejected("the token response has no id_token".into()))?;
        let mut claims = self
            .verify_id_token(discovery, &id_token, nonce.as_deref())
            .await?;
        if claims.email.is_none() {
            if let Some(endpoint) = &discovery.userinfo_endpoint {
                if let Some(info) = self
                    .userinfo(endpoint, &tokens.access_token, &claims.sub)
                    .await?
                {
                    claims.email = info.email;
                    claims.email_verified = info.email_verified;
                    claims.name = claims.name.or(info.name);
                }
            }
        }
        Ok(ProviderIdentity {
            email_verified: claims.email.is_some() && verified(claims.email_verified.as_ref()),
            subject: claims.sub,
            email: claims.email,
            name: claims.name,
            preferred_username: claims.preferred_username,
        })
    }
}
