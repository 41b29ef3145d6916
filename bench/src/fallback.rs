//! The fallback transport, as a tab speaks it when websockets are refused:
//! `open_session` (`POST /stateside/open`), events through `send_events`
//! (`POST /stateside/send`, one request at a time on the tab's keep-alive
//! connection, each waiting for its receipts), and the SSE stream
//! (`GET /stateside/stream?token=…`) on a second connection.

use std::{net::SocketAddr, time::Duration};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use stateside_wire::{
    ClientEvent, OPEN_PATH, Receipt, SEND_PATH, STREAM_PATH, SendRequest, ServerMessage,
    SessionInfo,
};
use tokio::task::JoinHandle;

use crate::{
    conn::{Conn, FORM, JSON, Pool},
    sse::Events,
    view::Follower,
};

/// Opens a session through `posts` and its stream on a connection of its
/// own, followed by `follower` in a task of its own.
pub async fn open(
    addr: SocketAddr,
    posts: &Pool,
    follower: Follower,
) -> Result<(SessionInfo, JoinHandle<()>)> {
    let reply = posts.post(OPEN_PATH, FORM, Bytes::new()).await?;
    let info: SessionInfo = serde_json::from_slice(&reply)
        .with_context(|| format!("open_session replied {}", String::from_utf8_lossy(&reply)))?;
    let body = Conn::open(addr)
        .await?
        .get(&format!("{STREAM_PATH}?token={}", info.token))
        .await?;
    // The stream's connection lives on in hyper's task while its body does.
    let task = tokio::spawn(follow(Events::new(body), follower));
    Ok((info, task))
}

/// Sends events in one request, as the browser client batches them; what
/// the server answers `Busy` to is resent after a pause. Returns how many
/// events were resent.
pub async fn send(posts: &Pool, token: &str, events: Vec<ClientEvent>) -> Result<u64> {
    let mut request = SendRequest {
        token: token.to_owned(),
        events,
    };
    let mut resent = 0;
    loop {
        let body = serde_json::to_vec(&request)?;
        let reply = posts.post(SEND_PATH, JSON, body.into()).await?;
        let receipts: Vec<Receipt> = serde_json::from_slice(&reply)?;
        let mut taken = 0;
        for receipt in receipts {
            match receipt {
                Receipt::Accepted | Receipt::Held | Receipt::Duplicate => taken += 1,
                Receipt::Busy => break,
                Receipt::Refused(refusal) => bail!("event refused: {}", refusal.message),
            }
        }
        request.events.drain(..taken);
        if request.events.is_empty() {
            return Ok(resent);
        }
        resent += request.events.len() as u64;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Feeds the SSE stream to the mirror until it ends or breaks.
async fn follow(mut events: Events, mut follower: Follower) {
    let broken = loop {
        let data = match events.next().await {
            Ok(Some(data)) => data,
            Ok(None) => break "stream closed".to_owned(),
            Err(error) => break format!("stream failed: {error:#}"),
        };
        let message: ServerMessage = match serde_json::from_slice(&data) {
            Ok(message) => message,
            Err(error) => break format!("unreadable message: {error}"),
        };
        if let Err(why) = follower.apply(&message, data.len()) {
            break why;
        }
    };
    follower.broken(broken);
}
