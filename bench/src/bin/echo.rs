//! The floor: a bare axum server with no engine, no serialisation and no
//! state behind it, answering over the same transport as Stateside's
//! server (HTTP/1.1 keep-alive POSTs, an SSE stream). What the load
//! generator measures here is what loopback, hyper and axum cost by
//! themselves; anything above it in the real server is ours.
//!
//! - `POST /echo`: the body, straight back.
//! - `GET /stream?token=T`: an SSE stream for `T`.
//! - `POST /send?token=T`: the body, pushed as one event on `T`'s stream.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    response::sse::{Event, Sse},
    routing::{get, post},
};
use futures::{Stream, stream};
use serde::Deserialize;
use tokio::sync::mpsc;

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
