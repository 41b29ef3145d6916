//! HTTP/1.1 keep-alive connections on loopback, as a browser holds them:
//! one request at a time per connection, each waiting for its response.
//!
//! Raw hyper rather than a pooled client, so that a workload decides exactly
//! how many sockets exist and no client-side machinery hides in the figures.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Request,
    body::Incoming,
    client::conn::http1::{SendRequest, handshake},
    header::{CONTENT_TYPE, HOST},
};
use hyper_util::rt::TokioIo;
use stateside_wire::ProtocolError;
use tokio::{net::TcpStream, sync::Semaphore};

pub const JSON: &str = "application/json";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// One open connection.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        Self::over(stream).await
    }

    /// A connection over an open TCP stream (one bound to a chosen source
    /// address, say).
    pub async fn over(stream: TcpStream) -> Result<Self> {
        stream.set_nodelay(true)?;
        let (send, connection) = handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { send })
    }

    /// POSTs `body` and returns the response body; a non-2xx status is an
    /// error, a [`ProtocolError`] when the server said why.
    pub async fn post(&mut self, path: &str, content_type: &str, body: Bytes) -> Result<Bytes> {
        let request = Request::post(path)
            .header(HOST, "127.0.0.1")
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(body))?;
        let body = self.request(request).await?;
        body.collect()
            .await
            .map(|body| body.to_bytes())
            .with_context(|| format!("reading the reply to POST {path}"))
    }

    /// GETs `path` and hands back the still-streaming body; a non-2xx
    /// status is an error, a [`ProtocolError`] when the server said why.
    pub async fn get(&mut self, path: &str) -> Result<Incoming> {
        let request = Request::get(path)
            .header(HOST, "127.0.0.1")
            .body(Full::default())?;
        self.request(request).await
    }

    async fn request(&mut self, request: Request<Full<Bytes>>) -> Result<Incoming> {
        let what = format!("{} {}", request.method(), request.uri());
        self.send.ready().await.with_context(|| what.clone())?;
        let response = self
            .send
            .send_request(request)
            .await
            .with_context(|| what.clone())?;
        let status = response.status();
        if !status.is_success() {
            let body = response.into_body().collect().await?.to_bytes();
            // A protocol refusal stays typed, for a caller to downcast.
            if let Ok(refusal) = serde_json::from_slice::<ProtocolError>(&body) {
                return Err(anyhow::Error::new(refusal).context(format!("{what}: {status}")));
            }
            bail!("{what}: {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(response.into_body())
    }
}

/// At most `size` keep-alive connections to one server, shared by whoever
/// posts: a tab's own (one connection), or, in the scale run, a proxy's
/// upstream pool that lets 10,000 tabs post without 10,000 more sockets.
/// Bounded, so that a burst queues for a connection instead of opening
/// sockets faster than the server's accept backlog takes them.
pub struct Pool {
    addr: SocketAddr,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

impl Pool {
    pub fn new(addr: SocketAddr, size: usize) -> Arc<Self> {
        Arc::new(Self {
            addr,
            idle: Mutex::default(),
            permits: Semaphore::new(size),
        })
    }

    pub async fn post(&self, path: &str, content_type: &str, body: Bytes) -> Result<Bytes> {
        let _permit = self.permits.acquire().await?;
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => Conn::open(self.addr).await?,
        };
        let reply = conn.post(path, content_type, body).await?;
        self.idle.lock().expect("pool lock").push(conn);
        Ok(reply)
    }

    /// Connections opened so far and now idle.
    pub fn size(&self) -> usize {
        self.idle.lock().expect("pool lock").len()
    }

    /// Closes the idle connections.
    pub fn close_idle(&self) {
        self.idle.lock().expect("pool lock").clear();
    }
}
