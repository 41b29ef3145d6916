//! Who may open what: the limits one client address, and all of them
//! together, can take from the server before it says no.
//!
//! - **New sessions per address** are rate limited (a keyed token bucket,
//!   from `governor`): every `open` and every socket hello can create one,
//!   and each costs memory until it expires, so a script must not be able
//!   to make them as fast as it can send.
//! - **Streams per address** (sockets and SSE streams) are capped, and so
//!   are **streams in all**: each holds a connection and buffers for as
//!   long as its tab stays.
//!
//! The client's address is the peer's, unless the peer is one of the
//! engine's `trusted_proxies`: then it is the nearest address in
//! `X-Forwarded-For` that is not a trusted proxy. A header from anyone else
//! is ignored, so a client cannot pick the address it is counted under.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use stateside::Config;
use stateside_wire::{OPEN_PATH, ProtocolError, SEND_PATH, SOCKET_PATH, STREAM_PATH};

use crate::{request::ClientAddress, status::refuse};

/// Addresses the rate limiter remembers before it forgets the ones whose
/// buckets are full again.
const TRACKED_ADDRESSES: usize = 100_000;

/// The counts behind the limits, shared by every request of one router.
pub(crate) struct Admission {
    opens: DefaultKeyedRateLimiter<IpAddr>,
    streams: Mutex<Streams>,
    max_per_address: usize,
    max_in_all: usize,
    trusted_proxies: Vec<IpAddr>,
}

#[derive(Default)]
struct Streams {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// One open stream, counted until it is dropped (with its connection).
pub(crate) struct StreamPermit {
    admission: Arc<Admission>,
    address: IpAddr,
}

impl Admission {
    pub(crate) fn new(config: &Config) -> Arc<Self> {
        let rate = NonZeroU32::new(config.opens_per_second_per_ip).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.open_burst_per_ip).unwrap_or(rate);
        Arc::new(Self {
            opens: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            streams: Mutex::default(),
            max_per_address: config.max_streams_per_ip,
            max_in_all: config.max_connections,
            trusted_proxies: config.trusted_proxies.clone(),
        })
    }

    /// The client's address: see the module docs.
    pub(crate) fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        forwarded
            .into_iter()
            .rev()
            .find(|hop| !self.trusted_proxies.contains(hop))
            .unwrap_or(peer)
    }

    /// Takes one new session from `address`'s bucket.
    fn allow_open(&self, address: IpAddr) -> Result<(), ProtocolError> {
        if self.opens.len() > TRACKED_ADDRESSES {
            self.opens.retain_recent();
        }
        self.opens
            .check_key(&address)
            .map_err(|_| ProtocolError::RateLimited)
    }

    /// Counts one more stream from `address`, within both limits.
    fn admit_stream(self: &Arc<Self>, address: IpAddr) -> Result<StreamPermit, ProtocolError> {
        let mut streams = lock(&self.streams);
        if streams.total >= self.max_in_all {
            return Err(ProtocolError::Overloaded);
        }
        let count = streams.by_address.entry(address).or_default();
        if *count >= self.max_per_address {
            return Err(ProtocolError::TooManyConnections {
                limit: self.max_per_address,
            });
        }
        *count += 1;
        streams.total += 1;
        Ok(StreamPermit {
            admission: Arc::clone(self),
            address,
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut streams = lock(&self.admission.streams);
        streams.total -= 1;
        if let Some(count) = streams.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                streams.by_address.remove(&self.address);
            }
        }
    }
}

/// An axum middleware: applies the limits to the protocol's paths that
/// open sessions or streams, and hands a stream its permit as a request
/// extension (the socket and the SSE route keep it while they run). Every
/// protocol request also gets the client's address, for its session's
/// request context.
pub(crate) async fn admit(
    State(admission): State<Arc<Admission>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let (opens, streams) = (
        path == OPEN_PATH || path == SOCKET_PATH,
        path == SOCKET_PATH || path == STREAM_PATH,
    );
    if !opens && !streams && path != SEND_PATH {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let address = admission.client_address(peer, request.headers());
    // For the session's request context (see `request`).
    request.extensions_mut().insert(ClientAddress(address));
    if opens && let Err(error) = admission.allow_open(address) {
        tracing::info!(%address, "new sessions refused: over the rate");
        return refuse(&error);
    }
    if streams {
        match admission.admit_stream(address) {
            Ok(permit) => {
                request.extensions_mut().insert(Arc::new(permit));
            }
            Err(error) => {
                tracing::info!(%address, %error, "stream refused");
                return refuse(&error);
            }
        }
    }
    next.run(request).await
}

/// The counts stay right even if a holder panicked.
fn lock(streams: &Mutex<Streams>) -> std::sync::MutexGuard<'_, Streams> {
    streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(config: Config) -> Arc<Admission> {
        Admission::new(&config)
    }

    #[test]
    fn the_client_address_comes_from_a_trusted_proxy_only() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let admission = admission(Config {
            trusted_proxies: vec![proxy],
            ..Config::default()
        });
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(admission.client_address(stranger, &headers), stranger);
        assert_eq!(
            admission.client_address(proxy, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "the nearest hop the proxy saw, not what the client wrote first"
        );
    }

    #[test]
    fn streams_are_counted_per_address_and_in_all() {
        let admission = admission(Config {
            max_streams_per_ip: 2,
            max_connections: 3,
            ..Config::default()
        });
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = admission.admit_stream(a).unwrap();
        let _second = admission.admit_stream(a).unwrap();
        assert_eq!(
            admission.admit_stream(a).err(),
            Some(ProtocolError::TooManyConnections { limit: 2 })
        );
        let _third = admission.admit_stream(b).unwrap();
        assert_eq!(
            admission.admit_stream(b).err(),
            Some(ProtocolError::Overloaded)
        );
        drop(first);
        admission
            .admit_stream(a)
            .expect("a closed stream frees its place");
    }
}
