//! Server-side request forgery guard for user-supplied model endpoints.
//!
//! A credential's `base_url` makes the server call an address a user chose, so it is
//! checked twice: when registered (scheme, no user info, IP literals and names that resolve
//! to forbidden ranges are refused) and at every call, by the HTTP client's resolver
//! ([`GuardedResolver`]), which refuses to connect to a forbidden address whatever the name
//! resolves to by then (DNS rebinding). Redirects are never followed. Forbidden: loopback,
//! private (RFC 1918, unique local), link-local (169.254.0.0/16 with the cloud metadata
//! address, fe80::/10), shared (100.64.0.0/10), unspecified, broadcast, multicast,
//! documentation and the IPv4-mapped/compatible forms of all of them.
//! `ALLOW_PRIVATE_LLM_ENDPOINTS=true` lifts the address rule (a self-hosted Ollama on the
//! LAN, or tests on loopback); the scheme rule always holds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Why a base URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL.
    #[error("must be an absolute http(s) URL")]
    NotAUrl,
    /// Another scheme than http or https.
    #[error("must use http or https")]
    Scheme,
    /// Carries a user name or password.
    #[error("must not carry credentials; use api_key")]
    UserInfo,
    /// Has a query or fragment.
    #[error("must not have a query or a fragment")]
    Query,
    /// Points at a private, loopback, link-local or metadata address.
    #[error("points at a private, loopback, link-local or metadata address")]
    Forbidden,
}

/// True for addresses a user endpoint may not reach.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                // Mapped (::ffff:a.b.c.d) and compatible (::a.b.c.d) forms.
                return forbidden_v4(v4) || v6.is_unspecified() || v6.is_loopback();
            }
            let first = v6.segments()[0];
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7, incl. fd00:ec2::254
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 of any v4
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

/// Checks a base URL as registered; returns it normalised (no trailing slash).
pub fn check_base_url(text: &str, allow_private: bool) -> Result<String, EndpointError> {
    let url = Url::parse(text.trim()).map_err(|_| EndpointError::NotAUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EndpointError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::UserInfo);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError::Query);
    }
    let host = url.host().ok_or(EndpointError::NotAUrl)?;
    if !allow_private {
        match host {
            url::Host::Ipv4(ip) if is_forbidden(IpAddr::V4(ip)) => {
                return Err(EndpointError::Forbidden)
            }
            url::Host::Ipv6(ip) if is_forbidden(IpAddr::V6(ip)) => {
                return Err(EndpointError::Forbidden)
            }
            url::Host::Domain(name) if is_internal_name(name) => {
                return Err(EndpointError::Forbidden)
            }
            _ => {}
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Names that always mean this host or an internal network.
fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".internal")
        || name.ends_with(".local")
        || name == "metadata"
}

/// Resolves `url`'s host now and refuses it when any address is forbidden. A name that does
/// not resolve passes (the call-time resolver still guards it).
pub async fn check_resolved(url: &str, allow_private: bool) -> Result<(), EndpointError> {
    if allow_private {
        return Ok(());
    }
    let url = Url::parse(url).map_err(|_| EndpointError::NotAUrl)?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    if let Ok(addrs) = tokio::net::lookup_host((host, port)).await {
        if addrs.into_iter().any(|a| is_forbidden(a.ip())) {
            return Err(EndpointError::Forbidden);
        }
    }
    Ok(())
}

/// The HTTP client's resolver for user endpoints: the system resolver, minus forbidden
/// addresses (an error when none is left).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the endpoint resolves only to forbidden addresses",
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for user endpoints: no redirects, and, unless `allow_private`, the
/// [`GuardedResolver`]. IP-literal hosts bypass resolvers, so they are checked on every
/// call by [`check_base_url`] too.
pub fn guarded_client(
    timeout: std::time::Duration,
    allow_private: bool,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none());
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    builder.build()
}

/// An IPv6 literal for tests and docs: the AWS metadata service.
pub const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "100.128.0.1"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_forbidden(IpAddr::V6(AWS_METADATA_V6)));
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            check_base_url("https://api.openai.com/v1/", false),
            Ok("https://api.openai.com/v1".to_owned())
        );
        for (url, err) in [
            ("ftp://example.com/v1", EndpointError::Scheme),
            ("file:///etc/passwd", EndpointError::Scheme),
            ("redis://localhost:6379", EndpointError::Scheme),
            ("api.openai.com/v1", EndpointError::NotAUrl),
            ("https://user:pw@example.com/v1", EndpointError::UserInfo),
            ("https://example.com/v1?x=1", EndpointError::Query),
            ("http://169.254.169.254/latest", EndpointError::Forbidden),
            ("http://[fd00:ec2::254]/", EndpointError::Forbidden),
            ("http://127.0.0.1:11434/v1", EndpointError::Forbidden),
            ("http://localhost:11434/v1", EndpointError::Forbidden),
            ("http://metadata.google.internal/", EndpointError::Forbidden),
            ("http://[::ffff:10.0.0.1]/", EndpointError::Forbidden),
        ] {
            assert_eq!(check_base_url(url, false), Err(err), "{url}");
        }
        assert!(check_base_url("http://127.0.0.1:11434/v1", true).is_ok());
        assert_eq!(
            check_base_url("gopher://127.0.0.1/", true),
            Err(EndpointError::Scheme)
        );
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        // `localhost` is refused by name already; a name outside the list resolving to
        // loopback is caught by resolution.
        assert_eq!(
            check_resolved("http://127.0.0.1.nip.io.invalid:80/", false).await,
            Ok(())
        );
        let resolved = GuardedResolver
            .resolve("localhost".parse::<Name>().unwrap())
            .await;
        assert!(resolved.is_err());
    }
}
