//! The shopper's IP address (WeChat's H5 orders carry it): the
//! connection's peer, or, when the peer is a proxy the operator trusts
//! (`--trusted-proxy`), the address that proxy saw, read from the right of
//! `X-Forwarded-For` past every trusted hop. A header from anyone else is
//! ignored: it is the caller's to forge.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::AppState;

/// The shopper's IP address, if the connection has one.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        Ok(ClientIp(peer.map(|peer| {
            client_of(peer, &parts.headers, &state.inner.trusted_proxies)
        })))
    }
}

/// The client behind `peer`, by the proxies trusted.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    // From the right: each hop was written by the one after it, so the
    // first not trusted is the client; what a hop before it wrote (junk
    // included) is the client's to forge, and never read.
    let mut client = peer;
    for hop in values.iter().flat_map(|value| value.split(',')).rev() {
        let Some(ip) = address(hop.trim()) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// An address as a proxy writes it: bare, or with a port.
fn address(hop: &str) -> Option<IpAddr> {
    hop.parse()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn a_trusted_proxy_s_forwarded_address_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(
            client_of(proxy, &forwarded("203.0.113.9"), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // A client that sends its own X-Forwarded-For: the proxy appends the
        // address it saw, and that is the one taken.
        assert_eq!(
            client_of(
                proxy,
                &forwarded("1.1.1.1, 203.0.113.9, 10.0.0.7"),
                &trusted
            ),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn anyone_else_s_header_is_ignored() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let shopper: IpAddr = "198.51.100.4".parse().unwrap();
        assert_eq!(client_of(shopper, &forwarded("1.1.1.1"), &trusted), shopper);
        assert_eq!(client_of(shopper, &forwarded("1.1.1.1"), &[]), shopper);
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(client_of(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_of(proxy, &forwarded("garbage"), &trusted), proxy);
        // Junk the client wrote before the proxy's own hop changes nothing.
        assert_eq!(
            client_of(proxy, &forwarded("junk, 203.0.113.9"), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_of(proxy, &forwarded("203.0.113.9:51234"), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "a hop written with its port"
        );
    }
}
