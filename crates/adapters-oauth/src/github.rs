//! GitHub: OAuth 2.0 (with PKCE, which GitHub supports since 2025) and its REST API for the
//! user and the user's e-mail addresses.

use ainative_ports::{AuthorizationStart, IdentityProvider, ProviderError, ProviderIdentity};
use async_trait::async_trait;
use oauth2::AuthType;
use serde::Deserialize;

use crate::client::{json_of, unreachable, CodeFlow};
use crate::ClientCredentials;

/// GitHub's endpoints; overridable so tests talk to a local fake.
#[derive(Debug, Clone)]
pub struct GitHubEndpoints {
    /// `https://github.com/login/oauth/authorize`.
    pub authorize: String,
    /// `https://github.com/login/oauth/access_token`.
    pub token: String,
    /// `https://api.github.com` (no trailing slash).
    pub api: String,
}

impl Default for GitHubEndpoints {
    fn default() -> Self {
        Self {
            authorize: "https://github.com/login/oauth/authorize".into(),
            token: "https://github.com/login/oauth/access_token".into(),
            api: "https://api.github.com".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GitHubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// GitHub as an identity provider. The identity is the numeric user id (logins can be
/// renamed); the e-mail address is the primary one, verified only if GitHub says so.
pub struct GitHubProvider {
    flow: CodeFlow,
    api: String,
    http: reqwest::Client,
}

impl GitHubProvider {
    /// A provider for the GitHub OAuth app `credentials`.
    pub fn new(
        credentials: ClientCredentials,
        endpoints: GitHubEndpoints,
        http: reqwest::Client,
    ) -> Result<Self, ProviderError> {
        let flow = CodeFlow::new(
            &credentials,
            &endpoints.authorize,
            &endpoints.token,
            &["read:user", "user:email"],
            // GitHub documents the client secret as a form parameter.
            AuthType::RequestBody,
        )?;
        Ok(Self {
            flow,
            api: endpoints.api.trim_end_matches('/').to_owned(),
            http,
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
        access_token: &str,
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .get(format!("{}{path}", self.api))
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .map_err(|e| unreachable("GitHub API unreachable", e))?;
        json_of(what, response).await
    }
}

/// The primary address, else the first verified one.
fn chosen(emails: Vec<GitHubEmail>) -> Option<GitHubEmail> {
    let mut emails = emails;
    match emails.iter().position(|e| e.primary) {
        Some(i) => Some(emails.swap_remove(i)),
        None => emails.into_iter().find(|e| e.verified),
    }
}

#[async_trait]
impl IdentityProvider for GitHubProvider {
    async fn start(&self, callback_url: &str) -> Result<AuthorizationStart, ProviderError> {
        self.flow.start(callback_url, false)
    }

    async fn identify(
        &self,
        code: &str,
        pkce_verifier: &str,
        _nonce: Option<String>,
        callback_url: &str,
    ) -> Result<ProviderIdentity, ProviderError> {
        let tokens = self
            .flow
            .exchange(&self.http, code, pkce_verifier, callback_url)
            .await?;
        let user: GitHubUser = self
            .get("GitHub /user", "/user", &tokens.access_token)
            .await?;
        let emails: Vec<GitHubEmail> = self
            .get("GitHub /user/emails", "/user/emails", &tokens.access_token)
            .await?;
        let email = chosen(emails);
        Ok(ProviderIdentity {
            subject: user.id.to_string(),
            email_verified: email.as_ref().is_some_and(|e| e.verified),
            email: email.map(|e| e.email),
            name: user.name,
            preferred_username: Some(user.login),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(address: &str, primary: bool, verified: bool) -> GitHubEmail {
        GitHubEmail {
            email: address.into(),
            primary,
            verified,
        }
    }

    #[test]
    fn the_primary_address_wins_then_a_verified_one() {
        let got = chosen(vec![
            email("a@x.org", false, true),
            email("b@x.org", true, false),
        ])
        .expect("one");
        assert_eq!((got.email.as_str(), got.verified), ("b@x.org", false));
        let got = chosen(vec![
            email("a@x.org", false, false),
            email("c@x.org", false, true),
        ])
        .expect("one");
        assert_eq!(got.email, "c@x.org");
        assert!(chosen(vec![email("a@x.org", false, false)]).is_none());
    }
}
