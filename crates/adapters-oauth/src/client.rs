//! The `oauth2` client shared by both providers: authorization URL with PKCE S256 and the
//! code exchange.

use std::borrow::Cow;
use std::time::Duration;

use ainative_ports::{AuthorizationStart, Cause, ProviderError};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::ClientCredentials;

/// Random bytes in `state` and `nonce` (256 bits).
const SECRET_BYTES: u32 = 32;

/// The HTTP client for provider calls: no redirects (the `oauth2` crate's advice against
/// SSRF), bounded by `timeout`.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("ainative/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The `id_token` of an OIDC token response (absent for plain OAuth 2.0).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type Tokens = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuthClient = Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What the token endpoint returned.
pub(crate) struct Exchanged {
    pub access_token: String,
    pub id_token: Option<String>,
}

fn config_error(what: &str, err: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(Cause::new(format!("invalid provider {what}: {err}")))
}

/// One provider's client registration and endpoints.
pub(crate) struct CodeFlow {
    client: OAuthClient,
    scopes: Vec<String>,
}

impl CodeFlow {
    pub(crate) fn new(
        credentials: &ClientCredentials,
        auth_url: &str,
        token_url: &str,
        scopes: &[&str],
        auth_type: AuthType,
    ) -> Result<Self, ProviderError> {
        let client = Client::new(ClientId::new(credentials.client_id.clone()))
            .set_client_secret(ClientSecret::new(credentials.client_secret.clone()))
            .set_auth_type(auth_type)
            .set_auth_uri(
                AuthUrl::new(auth_url.to_owned())
                    .map_err(|e| config_error("authorization URL", e))?,
            )
            .set_token_uri(
                TokenUrl::new(token_url.to_owned()).map_err(|e| config_error("token URL", e))?,
            );
        Ok(Self {
            client,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// A new authorization request: fresh state, PKCE S256 and, when `with_nonce`, a nonce.
    pub(crate) fn start(
        &self,
        callback_url: &str,
        with_nonce: bool,
    ) -> Result<AuthorizationStart, ProviderError> {
        let redirect = RedirectUrl::new(callback_url.to_owned())
            .map_err(|e| config_error("callback URL", e))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = with_nonce.then(|| CsrfToken::new_random_len(SECRET_BYTES).into_secret());
        let mut request = self
            .client
            .authorize_url(|| CsrfToken::new_random_len(SECRET_BYTES))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect));
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(nonce) = &nonce {
            request = request.add_extra_param("nonce", nonce.clone());
        }
        let (url, state) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.into_secret(),
            pkce_verifier: verifier.into_secret(),
            nonce,
        })
    }

    /// Exchanges the code with the PKCE verifier.
    pub(crate) async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        pkce_verifier: &str,
        callback_url: &str,
    ) -> Result<Exchanged, ProviderError> {
        let redirect = RedirectUrl::new(callback_url.to_owned())
            .map_err(|e| config_error("callback URL", e))?;
        let tokens =
            self.client
                .exchange_code(AuthorizationCode::new(code.to_owned()))
                .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
                .set_redirect_uri(Cow::Owned(redirect))
                .request_async(http)
                .await
                .map_err(|err| match err {
                    RequestTokenError::ServerResponse(response) => {
                        ProviderError::Rejected(response.error().to_string())
                    }
                    RequestTokenError::Request(err) => ProviderError::Unavailable(
                        Cause::with_source("token endpoint unreachable", err),
                    ),
                    RequestTokenError::Parse(err, _) => {
                        ProviderError::Rejected(format!("unexpected token response: {err}"))
                    }
                    RequestTokenError::Other(text) => ProviderError::Rejected(text),
                })?;
        Ok(Exchanged {
            access_token: tokens.access_token().secret().clone(),
            id_token: tokens.extra_fields().id_token.clone(),
        })
    }
}

/// A reqwest failure: unreachable or timed out.
pub(crate) fn unreachable(what: &'static str, err: reqwest::Error) -> ProviderError {
    ProviderError::Unavailable(Cause::with_source(what, err))
}

/// Reads a JSON answer of `what`: 5xx is `Unavailable`, another non-2xx `Rejected`.
pub(crate) async fn json_of<T: serde::de::DeserializeOwned>(
    what: &'static str,
    response: reqwest::Response,
) -> Result<T, ProviderError> {
    let status = response.status();
    if status.is_server_error() {
        return Err(ProviderError::Unavailable(Cause::new(format!(
            "{what} answered {status}"
        ))));
    }
    if !status.is_success() {
        return Err(ProviderError::Rejected(format!("{what} answered {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| ProviderError::Rejected(format!("{what}: unreadable answer: {e}")))
}
