//! Identity providers for social login, implementing [`ainative_ports::IdentityProvider`]:
//!
//! - [`OidcProvider`]: any OpenID Connect issuer (Google, Keycloak, Authentik, Zitadel…),
//!   endpoints found by discovery, ID tokens verified against the issuer's JWKS
//!   (signature, `iss`, `aud`, `exp`, `nonce`) with `jsonwebtoken`.
//! - [`GitHubProvider`]: GitHub's OAuth 2.0 plus its `/user` and `/user/emails` APIs.
//!
//! Both use the `oauth2` crate for the authorization URL (PKCE S256, `state`) and the code
//! exchange. The HTTP client never follows redirects (an authorization server that
//! redirects the token call elsewhere is refused, not followed) and every call is bounded.

mod client;
mod github;
mod oidc;

pub use client::http_client;
pub use github::{GitHubEndpoints, GitHubProvider};
pub use oidc::OidcProvider;

/// The OAuth client registration of one provider.
#[derive(Clone)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`; never logged.
    pub client_secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"******")
            .finish()
    }
}
