//! A fake OpenID Connect / OAuth 2.0 provider on loopback (wiremock), speaking the real
//! protocol: discovery, JWKS, authorize (with PKCE S256 and nonce), token (checks the code
//! once, the verifier, the redirect URI and the client), userinfo, and GitHub-shaped
//! `/login/oauth/*`, `/user` and `/user/emails`. ID tokens are RS256, signed with a test
//! key whose public half `/jwks` publishes; [`IdTokenFault`] makes them wrong on purpose.
//!
//! ```ignore
//! let idp = FakeProvider::start().await;
//! let env = idp.oidc_env("ACME"); // OAUTH_OIDC_ACME_ISSUER/_CLIENT_ID/_CLIENT_SECRET
//! idp.set_user(FakeUser::new("42", "ada@example.org"));
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The client id the fake accepts.
pub const CLIENT_ID: &str = "ainative-test-client";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-client-secret-0123456789";
/// The key id of the published signing key.
const KID: &str = "fake-key-1";

const PROVIDER_KEY: &[u8] = include_bytes!("oauth_keys/provider.der");
const PROVIDER_N: &str = include_str!("oauth_keys/provider.n");
/// A key the provider does not publish (for mis-signed tokens).
const STRANGER_KEY: &[u8] = include_bytes!("oauth_keys/stranger.der");

/// The person who signs in at the fake.
#[derive(Debug, Clone)]
pub struct FakeUser {
    /// `sub` (OIDC) and the numeric GitHub id (must be digits for GitHub).
    pub subject: String,
    /// E-mail address, if shared.
    pub email: Option<String>,
    /// Whether the provider asserts the address.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// GitHub login / OIDC `preferred_username`.
    pub login: String,
}

impl FakeUser {
    /// A user with a verified address; the login is the address's local part.
    pub fn new(subject: &str, email: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            email: Some(email.to_owned()),
            email_verified: true,
            name: Some("Test Person".to_owned()),
            login: email.split('@').next().unwrap_or("someone").to_owned(),
        }
    }
}

/// How the next ID tokens are spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenFault {
    /// A correct token.
    None,
    /// `nonce` other than the request's.
    WrongNonce,
    /// `exp` ten minutes ago.
    Expired,
    /// `aud` another client.
    WrongAudience,
    /// `iss` another issuer.
    WrongIssuer,
    /// Signed with a key the provider does not publish (same `kid`).
    MisSigned,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: FakeUser,
    used: bool,
}

struct State {
    user: FakeUser,
    fault: IdTokenFault,
    deny: bool,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, FakeUser>,
    counter: u64,
    /// Code exchanges seen (accepted or not).
    token_calls: u32,
}

/// The running fake.
pub struct FakeProvider {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Discovery,
    Jwks,
    Authorize,
    OidcToken,
    GitHubToken,
    UserInfo,
    GitHubUser,
    GitHubEmails,
}

struct Handler {
    endpoint: Endpoint,
    issuer: String,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn oauth_error(status: u16, error: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": error}))
}

fn form(request: &Request) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&request.body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn query(request: &Request) -> HashMap<String, String> {
    request.url.query_pairs().into_owned().collect()
}

fn bearer(request: &Request) -> Option<String> {
    request
        .headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// The client credentials of a token request: HTTP Basic or form fields.
fn client_of(request: &Request, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        // RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
        let decode = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, v)| v)
        };
        return Some((decode(id)?, decode(secret)?));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

impl Handler {
    fn discovery(&self) -> ResponseTemplate {
        let i = &self.issuer;
        ResponseTemplate::new(200).set_body_json(json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "userinfo_endpoint": format!("{i}/userinfo"),
            "jwks_uri": format!("{i}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"]
        }))
    }

    fn authorize(&self, request: &Request) -> ResponseTemplate {
        let q = query(request);
        let (Some(redirect_uri), Some(state_param), Some(challenge)) = (
            q.get("redirect_uri"),
            q.get("state"),
            q.get("code_challenge"),
        ) else {
            return ResponseTemplate::new(400)
                .set_body_string("missing redirect_uri, state or PKCE");
        };
        if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || q.get("code_challenge_method").map(String::as_str) != Some("S256")
            || q.get("response_type").map(String::as_str) != Some("code")
        {
            return ResponseTemplate::new(400)
                .set_body_string("bad client, PKCE method or response type");
        }
        let mut state = lock(&self.state);
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        if state.deny {
            return ResponseTemplate::new(302).insert_header(
                "location",
                format!("{redirect_uri}{sep}error=access_denied&state={state_param}").as_str(),
            );
        }
        state.counter += 1;
        let code = format!(
            "code-{}-{}",
            state.counter,
            &challenge[..8.min(challenge.len())]
        );
        let grant = Grant {
            redirect_uri: redirect_uri.clone(),
            challenge: challenge.clone(),
            nonce: q.get("nonce").cloned(),
            user: state.user.clone(),
            used: false,
        };
        state.codes.insert(code.clone(), grant);
        ResponseTemplate::new(302).insert_header(
            "location",
            format!("{redirect_uri}{sep}code={code}&state={state_param}").as_str(),
        )
    }

    fn token(&self, request: &Request, with_id_token: bool) -> ResponseTemplate {
        let form = form(request);
        let mut state = lock(&self.state);
        state.token_calls += 1;
        match client_of(request, &form) {
            Some((id, secret)) if id == CLIENT_ID && secret == CLIENT_SECRET => {}
            _ => return oauth_error(401, "invalid_client"),
        }
        if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return oauth_error(400, "unsupported_grant_type");
        }
        let code = form.get("code").cloned().unwrap_or_default();
        let Some(grant) = state.codes.get_mut(&code) else {
            return oauth_error(400, "invalid_grant");
        };
        if grant.used {
            return oauth_error(400, "invalid_grant");
        }
        grant.used = true;
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if challenge != grant.challenge || form.get("redirect_uri") != Some(&grant.redirect_uri) {
            return oauth_error(400, "invalid_grant");
        }
        let user = grant.user.clone();
        let nonce = grant.nonce.clone();
        state.counter += 1;
        let access_token = format!("at-{}", state.counter);
        state.tokens.insert(access_token.clone(), user.clone());
        let mut body = json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": "openid email profile"
        });
        if with_id_token {
            body["id_token"] = json!(self.id_token(&user, nonce.as_deref(), state.fault));
        }
        ResponseTemplate::new(200).set_body_json(body)
    }

    fn id_token(&self, user: &FakeUser, nonce: Option<&str>, fault: IdTokenFault) -> String {
        let now = chrono::Utc::now().timestamp();
        let (iat, exp) = if fault == IdTokenFault::Expired {
            (now - 1200, now - 600)
        } else {
            (now, now + 300)
        };
        let mut claims = json!({
            "iss": if fault == IdTokenFault::WrongIssuer { "https://evil.example" } else { self.issuer.as_str() },
            "aud": if fault == IdTokenFault::WrongAudience { "another-client" } else { CLIENT_ID },
            "sub": user.subject,
            "iat": iat,
            "exp": exp,
            "name": user.name,
            "preferred_username": user.login,
        });
        if let Some(email) = &user.email {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(user.email_verified);
        }
        match (fault, nonce) {
            (IdTokenFault::WrongNonce, _) => claims["nonce"] = json!("not-the-request-nonce"),
            (_, Some(nonce)) => claims["nonce"] = json!(nonce),
            _ => {}
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        let key = if fault == IdTokenFault::MisSigned {
            STRANGER_KEY
        } else {
            PROVIDER_KEY
        };
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(key))
            .unwrap_or_else(|e| panic!("the fake cannot sign: {e}"))
    }

    fn user_of(&self, request: &Request) -> Option<FakeUser> {
        let token = bearer(request)?;
        lock(&self.state).tokens.get(&token).cloned()
    }
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.endpoint {
            Endpoint::Discovery => self.discovery(),
            Endpoint::Jwks => ResponseTemplate::new(200).set_body_json(json!({"keys": [{
                "kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
                "n": PROVIDER_N.trim(), "e": "AQAB"
            }]})),
            Endpoint::Authorize => self.authorize(request),
            Endpoint::OidcToken => self.token(request, true),
            Endpoint::GitHubToken => self.token(request, false),
            Endpoint::UserInfo => match self.user_of(request) {
                Some(user) => ResponseTemplate::new(200).set_body_json(json!({
                    "sub": user.subject, "email": user.email,
                    "email_verified": user.email_verified, "name": user.name
                })),
                None => ResponseTemplate::new(401),
            },
            Endpoint::GitHubUser => match self.user_of(request) {
                Some(user) => ResponseTemplate::new(200).set_body_json(json!({
                    "id": user.subject.parse::<u64>().unwrap_or(0),
                    "login": user.login, "name": user.name, "email": Value::Null
                })),
                None => ResponseTemplate::new(401),
            },
            Endpoint::GitHubEmails => match self.user_of(request) {
                Some(user) => {
                    let mut emails = vec![json!({
                        "email": format!("{}@users.noreply.github.com", user.login),
                        "primary": false, "verified": true, "visibility": Value::Null
                    })];
                    if let Some(email) = user.email {
                        emails.push(json!({
                            "email": email, "primary": true,
                            "verified": user.email_verified, "visibility": "private"
                        }));
                    }
                    ResponseTemplate::new(200).set_body_json(emails)
                }
                None => ResponseTemplate::new(401),
            },
        }
    }
}

impl FakeProvider {
    /// Starts the fake on a random loopback port, signing in `FakeUser::new("1001",
    /// "person@example.org")` until told otherwise.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            user: FakeUser::new("1001", "person@example.org"),
            fault: IdTokenFault::None,
            deny: false,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            counter: 0,
            token_calls: 0,
        }));
        for (verb, route, endpoint) in [
            (
                "GET",
                "/.well-known/openid-configuration",
                Endpoint::Discovery,
            ),
            ("GET", "/jwks", Endpoint::Jwks),
            ("GET", "/authorize", Endpoint::Authorize),
            ("POST", "/token", Endpoint::OidcToken),
            ("GET", "/userinfo", Endpoint::UserInfo),
            ("GET", "/login/oauth/authorize", Endpoint::Authorize),
            ("POST", "/login/oauth/access_token", Endpoint::GitHubToken),
            ("GET", "/user", Endpoint::GitHubUser),
            ("GET", "/user/emails", Endpoint::GitHubEmails),
        ] {
            Mock::given(method(verb))
                .and(path(route))
                .respond_with(Handler {
                    endpoint,
                    issuer: server.uri(),
                    state: state.clone(),
                })
                .mount(&server)
                .await;
        }
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT`, also the OIDC issuer.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Who signs in next.
    pub fn set_user(&self, user: FakeUser) {
        lock(&self.state).user = user;
    }

    /// Spoils the ID tokens issued from now on.
    pub fn set_fault(&self, fault: IdTokenFault) {
        lock(&self.state).fault = fault;
    }

    /// Makes the user refuse consent (authorize answers `error=access_denied`).
    pub fn deny_consent(&self, deny: bool) {
        lock(&self.state).deny = deny;
    }

    /// How many code exchanges the fake has seen.
    pub fn token_calls(&self) -> u32 {
        lock(&self.state).token_calls
    }

    /// Settings enabling it as the generic OIDC provider `NAME`.
    pub fn oidc_env(&self, name: &str) -> Vec<(String, String)> {
        vec![
            (format!("OAUTH_OIDC_{name}_ISSUER"), self.uri()),
            (format!("OAUTH_OIDC_{name}_CLIENT_ID"), CLIENT_ID.to_owned()),
            (
                format!("OAUTH_OIDC_{name}_CLIENT_SECRET"),
                CLIENT_SECRET.to_owned(),
            ),
        ]
    }

    /// Settings enabling it as Google.
    pub fn google_env(&self) -> Vec<(String, String)> {
        vec![
            ("OAUTH_GOOGLE_ISSUER".into(), self.uri()),
            ("OAUTH_GOOGLE_CLIENT_ID".into(), CLIENT_ID.to_owned()),
            (
                "OAUTH_GOOGLE_CLIENT_SECRET".into(),
                CLIENT_SECRET.to_owned(),
            ),
        ]
    }

    /// Settings enabling it as GitHub.
    pub fn github_env(&self) -> Vec<(String, String)> {
        let uri = self.uri();
        vec![
            (
                "OAUTH_GITHUB_AUTHORIZE_URL".into(),
                format!("{uri}/login/oauth/authorize"),
            ),
            (
                "OAUTH_GITHUB_TOKEN_URL".into(),
                format!("{uri}/login/oauth/access_token"),
            ),
            ("OAUTH_GITHUB_API_URL".into(), uri),
            ("OAUTH_GITHUB_CLIENT_ID".into(), CLIENT_ID.to_owned()),
            (
                "OAUTH_GITHUB_CLIENT_SECRET".into(),
                CLIENT_SECRET.to_owned(),
            ),
        ]
    }
}
