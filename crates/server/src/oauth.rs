//! Social login wiring: one identity provider per enabled provider setting.

use std::collections::BTreeMap;
use std::sync::Arc;

use ainative_adapters_oauth::{
    http_client, ClientCredentials, GitHubEndpoints, GitHubProvider, OidcProvider,
};
use ainative_auth::{AuthService, OAuthConfig, OAuthService};
use ainative_ports::{IdentityProvider, SystemClock};
use secrecy::ExposeSecret;

use crate::database::Database;
use crate::settings::{OAuthProviderKind, Settings};
use crate::startup::StartupError;

/// One-time login codes live this long (SPEC §10.2).
const LOGIN_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The social-login service over the enabled providers (none enabled: every provider
/// route answers 404).
pub fn oauth_service(
    settings: &Settings,
    db: &Database,
    auth: Arc<AuthService>,
) -> Result<Arc<OAuthService>, StartupError> {
    let oauth = &settings.oauth;
    let http = http_client(oauth.http_timeout).map_err(|e| StartupError::OAuth(e.to_string()))?;
    let mut providers: BTreeMap<String, Arc<dyn IdentityProvider>> = BTreeMap::new();
    for provider in &oauth.providers {
        let credentials = ClientCredentials {
            client_id: provider.client_id.clone(),
            client_secret: provider.client_secret.expose_secret().to_owned(),
        };
        let built: Arc<dyn IdentityProvider> = match &provider.kind {
            OAuthProviderKind::Google { issuer } => {
                Arc::new(OidcProvider::google(issuer, credentials, http.clone()))
            }
            OAuthProviderKind::Oidc { issuer } => {
                Arc::new(OidcProvider::new(issuer, credentials, http.clone()))
            }
            OAuthProviderKind::GitHub {
                authorize_url,
                token_url,
                api_url,
            } => Arc::new(
                GitHubProvider::new(
                    credentials,
                    GitHubEndpoints {
                        authorize: authorize_url.clone(),
                        token: token_url.clone(),
                        api: api_url.clone(),
                    },
                    http.clone(),
                )
                .map_err(|e| StartupError::OAuth(format!("github: {e}")))?,
            ),
        };
        providers.insert(provider.name.clone(), built);
    }
    if !providers.is_empty() {
        tracing::info!(providers = ?providers.keys().collect::<Vec<_>>(), "social login enabled");
    }
    Ok(Arc::new(OAuthService::new(
        providers,
        db.oauth.clone(),
        db.users.clone(),
        auth,
        Arc::new(SystemClock),
        OAuthConfig {
            redirect_allowlist: oauth.redirect_allowlist.clone(),
            public_base_url: oauth.public_base_url.clone(),
            flow_ttl: oauth.flow_ttl,
            login_code_ttl: LOGIN_CODE_TTL,
        },
    )))
}
