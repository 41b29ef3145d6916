//! The floor: a bare axum server with no engine, no serialisation and no
//! state behind it, answering over the same transport as Stateside's
//! server (HTTP/1.1 keep-alive POSTs, an SSE stream). What the load
//! generator measures here is what loopback, hyper and axum cost by
//! themselves; anything above it in the real server is ours.
//!
//! - `POST /echo`: the body, straight back.
//! - `GET /stream?token=T`: an SSE stream for `T`.
//! - `POST /send?token=T`: the body, pushed as one event on `T`'s stream.
//! - `GET /ws`: a websocket that sends every message straight back (upgraded
//!   by hand with hyper, so the bench needs no `ws` feature of axum). It is
//!   the stack axum's `WebSocketUpgrade` gives the server's socket
//!   (tokio-tungstenite over hyper's upgraded connection) with the buffers
//!   the server sets there, so an idle socket here costs what one costs the
//!   server before any session is behind it.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Query, Request, State},
    http::{StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
    routing::{get, post},
};
use futures::{SinkExt, Stream, StreamExt, stream};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};

/// The buffers the server's socket upgrade sets
/// (`crates/stateside-leptos/src/socket/upgrade.rs`): a 4 KiB read buffer
/// instead of tungstenite's 128 KiB, and frames written through.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 0;

type Streams = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Bytes>>>>;

#[derive(Deserialize)]
struct Token {
    token: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3100".into());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/echo", post(|body: Bytes| async move { body }))
        .route("/stream", get(open_stream))
        .route("/send", post(send))
        .route("/ws", get(websocket))
        .with_state(Streams::default());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}

async fn open_stream(
    State(streams): State<Streams>,
    Query(Token { token }): Query<Token>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    streams.lock().expect("streams lock").insert(token, sender);
    Sse::new(stream::unfold(receiver, |mut receiver| async move {
        let body = receiver.recv().await?;
        let event = Event::default().data(String::from_utf8_lossy(&body));
        Some((Ok(event), receiver))
    }))
}

async fn send(
    State(streams): State<Streams>,
    Query(Token { token }): Query<Token>,
    body: Bytes,
) -> Result<&'static str, StatusCode> {
    let streams = streams.lock().expect("streams lock");
    let stream = streams.get(&token).ok_or(StatusCode::NOT_FOUND)?;
    stream.send(body).map_err(|_| StatusCode::GONE)?;
    Ok(r#"["Accepted"]"#)
}

async fn websocket(mut request: Request) -> Response {
    let Some(key) = request.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER);
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        let (mut sink, mut messages) = socket.split();
        while let Some(Ok(message)) = messages.next().await {
            if (message.is_text() || message.is_binary()) && sink.send(message).await.is_err() {
                return;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .expect("a valid response")
}
