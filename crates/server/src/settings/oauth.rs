//! Social-login settings: the enabled providers and the flow bounds, and the rules that span
//! their variables (a client id needs its secret, an OIDC provider needs all three).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::error::SettingsError;
use super::values::Values;
use super::vars::*;

/// Which protocol a provider speaks, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthProviderKind {
    /// Google (OpenID Connect at `issuer`).
    Google {
        /// Issuer URL.
        issuer: String,
    },
    /// GitHub (OAuth 2.0 and its REST API).
    GitHub {
        /// Authorization endpoint.
        authorize_url: String,
        /// Token endpoint.
        token_url: String,
        /// REST API base.
        api_url: String,
    },
    /// Any OpenID Connect provider found by discovery at `issuer`.
    Oidc {
        /// Issuer URL.
        issuer: String,
    },
}

/// One enabled provider.
#[derive(Debug, Clone)]
pub struct OAuthProviderSettings {
    /// The name in URLs (`google`, `github`, or the lower-case NAME of an OIDC provider).
    pub name: String,
    /// Protocol and endpoints.
    pub kind: OAuthProviderKind,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
}

/// Social login.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Base of the callback URLs.
    pub public_base_url: String,
    /// Application URLs a flow may return to (exact match).
    pub redirect_allowlist: Vec<String>,
    /// Life of a started flow.
    pub flow_ttl: Duration,
    /// Bound of every provider call.
    pub http_timeout: Duration,
    /// Enabled providers, by name.
    pub providers: Vec<OAuthProviderSettings>,
}

/// Names an OIDC provider may not take: the built-in providers and the fixed path segments.
const RESERVED: [&str; 4] = ["google", "github", "accounts", "exchange"];

fn refuse(var: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Refused {
        var: var.to_owned(),
        reason: reason.into(),
    }
}

/// Variables that were removed, with what replaces them: set, they stop start-up rather
/// than being ignored (an ignored callback base would send providers elsewhere).
pub(super) const REMOVED: [(&str, &str); 1] = [(
    "OAUTH_PUBLIC_BASE_URL",
    "was removed; set PUBLIC_BASE_URL, the one public origin of mail links and OAuth callbacks",
)];

/// The removed variables present in `env`, as problems.
pub(super) fn removed<'a>(names: impl Iterator<Item = &'a str>) -> Vec<SettingsError> {
    let mut found: Vec<SettingsError> = names
        .filter_map(|name| {
            REMOVED
                .iter()
                .find(|(old, _)| old.eq_ignore_ascii_case(name))
                .map(|(old, why)| refuse(old, *why))
        })
        .collect();
    found.sort_by(|a, b| a.var().cmp(&b.var()));
    found
}

/// The cross-variable rules of social login.
pub(super) fn cross_rules(values: &Values, production: bool, problems: &mut Vec<SettingsError>) {
    for (provider, id_var, secret_var, id, secret) in [
        (
            "Google",
            "OAUTH_GOOGLE_CLIENT_ID",
            "OAUTH_GOOGLE_CLIENT_SECRET",
            values.get(&OAUTH_GOOGLE_CLIENT_ID).flatten().is_some(),
            values.get(&OAUTH_GOOGLE_CLIENT_SECRET).flatten().is_some(),
        ),
        (
            "GitHub",
            "OAUTH_GITHUB_CLIENT_ID",
            "OAUTH_GITHUB_CLIENT_SECRET",
            values.get(&OAUTH_GITHUB_CLIENT_ID).flatten().is_some(),
            values.get(&OAUTH_GITHUB_CLIENT_SECRET).flatten().is_some(),
        ),
    ] {
        if id != secret {
            let (set, missing) = if id {
                (id_var, secret_var)
            } else {
                (secret_var, id_var)
            };
            problems.push(refuse(
                missing,
                format!("is required with {set} ({provider} sign-in needs both)"),
            ));
        }
    }
    let issuers = values.family(&OAUTH_OIDC_ISSUER);
    let ids = values.family(&OAUTH_OIDC_CLIENT_ID);
    let secrets = values.family(&OAUTH_OIDC_CLIENT_SECRET);
    let mut names: Vec<&String> = issuers
        .iter()
        .map(|(n, _)| n)
        .chain(ids.iter().map(|(n, _)| n))
        .chain(secrets.iter().map(|(n, _)| n))
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        for (suffix, present) in [
            ("ISSUER", issuers.iter().any(|(n, _)| n == name)),
            ("CLIENT_ID", ids.iter().any(|(n, _)| n == name)),
            ("CLIENT_SECRET", secrets.iter().any(|(n, _)| n == name)),
        ] {
            if !present {
                problems.push(refuse(
                    &format!("OAUTH_OIDC_{name}_{suffix}"),
                    format!("is required: the OIDC provider {name} is partly configured"),
                ));
            }
        }
        if RESERVED.contains(&name.to_lowercase().as_str()) {
            problems.push(refuse(
                &format!("OAUTH_OIDC_{name}_ISSUER"),
                format!("{name} is a reserved provider name"),
            ));
        }
    }
    if production {
        if let Some(base) = values.get(&PUBLIC_BASE_URL) {
            let any_provider = values.get(&OAUTH_GOOGLE_CLIENT_ID).flatten().is_some()
                || values.get(&OAUTH_GITHUB_CLIENT_ID).flatten().is_some()
                || !issuers.is_empty();
            if any_provider && !base.starts_with("https://") {
                problems.push(refuse(
                    "PUBLIC_BASE_URL",
                    "must be https when APP_ENV=production and a sign-in provider is enabled",
                ));
            }
        }
    }
}

/// The settings; every value is valid here (the rules above passed).
pub(super) fn assemble(v: &Values) -> Result<OAuthSettings, SettingsError> {
    let mut providers = Vec::new();
    // Read whether or not the provider is enabled: every declared variable is read (tested).
    let google_issuer = v.require(&OAUTH_GOOGLE_ISSUER)?;
    let github = OAuthProviderKind::GitHub {
        authorize_url: v.require(&OAUTH_GITHUB_AUTHORIZE_URL)?,
        token_url: v.require(&OAUTH_GITHUB_TOKEN_URL)?,
        api_url: v.require(&OAUTH_GITHUB_API_URL)?,
    };
    if let (Some(client_id), Some(client_secret)) = (
        v.require(&OAUTH_GOOGLE_CLIENT_ID)?,
        v.require(&OAUTH_GOOGLE_CLIENT_SECRET)?,
    ) {
        providers.push(OAuthProviderSettings {
            name: "google".into(),
            kind: OAuthProviderKind::Google {
                issuer: google_issuer,
            },
            client_id,
            client_secret,
        });
    }
    if let (Some(client_id), Some(client_secret)) = (
        v.require(&OAUTH_GITHUB_CLIENT_ID)?,
        v.require(&OAUTH_GITHUB_CLIENT_SECRET)?,
    ) {
        providers.push(OAuthProviderSettings {
            name: "github".into(),
            kind: github,
            client_id,
            client_secret,
        });
    }
    let ids = v.family(&OAUTH_OIDC_CLIENT_ID);
    let secrets = v.family(&OAUTH_OIDC_CLIENT_SECRET);
    for (name, issuer) in v.family(&OAUTH_OIDC_ISSUER) {
        let id = ids
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| id.clone());
        let secret = secrets
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| SecretString::from(s.expose_secret().to_owned()));
        if let (Some(client_id), Some(client_secret)) = (id, secret) {
            providers.push(OAuthProviderSettings {
                name: name.to_lowercase(),
                kind: OAuthProviderKind::Oidc { issuer },
                client_id,
                client_secret,
            });
        }
    }
    Ok(OAuthSettings {
        // One public origin for mail links and callbacks (decision 118).
        public_base_url: v
            .require(&PUBLIC_BASE_URL)?
            .trim_end_matches('/')
            .to_owned(),
        redirect_allowlist: v.require(&OAUTH_REDIRECT_ALLOWLIST)?,
        flow_ttl: v.require(&OAUTH_FLOW_TTL_SECS)?,
        http_timeout: v.require(&OAUTH_HTTP_TIMEOUT_SECS)?,
        providers,
    })
}
