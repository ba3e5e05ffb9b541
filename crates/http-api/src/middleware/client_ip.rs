//! The client's IP address: the socket peer, or the nearest untrusted hop of
//! `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::ServiceRequest;
use ipnet::IpNet;

/// The resolved client address, stored in the request extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Resolves the client address of a request.
pub fn resolve_client_ip(req: &ServiceRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    client_ip_from(peer, &forwarded, trusted)
}

/// Walks `X-Forwarded-For` from the right while hops are trusted proxies.
pub fn client_ip_from(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_cannot_spoof() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip_from(ip("203.0.113.9"), "1.2.3.4", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip_from(ip("203.0.113.9"), "1.2.3.4", &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxy_chain_is_walked_from_the_right() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip_from(ip("10.0.0.1"), "1.2.3.4, 198.51.100.7, 10.0.0.2", &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(client_ip_from(ip("10.0.0.1"), "", &trusted), ip("10.0.0.1"));
        assert_eq!(
            client_ip_from(ip("10.0.0.1"), "garbage", &trusted),
            ip("10.0.0.1")
        );
    }
}
