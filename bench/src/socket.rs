//! The primary transport, as a tab speaks it: one websocket
//! (`GET /stateside/socket` with an upgrade, a Leptos websocket server
//! function) that carries `Upward` messages up and `Downward` frames down,
//! each a binary message in Leptos's framing (`socket_frame`).
//!
//! The tab says `Hello` and gets its session back; from then on events go
//! up with no reply of their own: the server mentions an event only when it
//! was not taken (refused, or busy: resend it), and acks arrive on the
//! stream. So the tab keeps what it sent until the stream acks it, to
//! resend what the server was busy for or reports `missing`. The reader
//! task applies the stream to the tab's mirror and answers the server's
//! pings, which a quiet socket gets and must answer to stay open.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};
use futures::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use stateside_wire::{
    ClientEvent, Downward, Receipt, SOCKET_PATH, ServerMessage, SessionInfo, Upward, socket_frame,
};
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use crate::view::Follower;

pub type WebSocket = WebSocketStream<TcpStream>;

/// How long the tab waits before resending what the server was busy for.
const BUSY_PAUSE: Duration = Duration::from_millis(1);

/// The read buffer, as the server's: tungstenite zeroes it before each read,
/// and its default (128 KiB) made that zeroing a quarter of the load
/// generator's CPU, time a browser does not spend.
const READ_BUFFER: usize = 4 * 1024;

/// Opens a websocket to `path` on loopback, as a browser would, without an
/// `Origin` (which the server's same-origin guard lets through).
pub async fn connect(addr: SocketAddr, path: &str) -> Result<WebSocket> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (socket, _) = client_async_with_config(format!("ws://{addr}{path}"), stream, Some(config))
        .await
        .with_context(|| format!("upgrading GET {path}"))?;
    Ok(socket)
}

/// The sending half of a tab's socket, and what it has sent and not yet
/// seen acked. The reader holds a clone, to answer pings and resend.
#[derive(Clone)]
pub struct Sender {
    sink: Arc<tokio::sync::Mutex<SplitSink<WebSocket, Message>>>,
    unacked: Arc<Mutex<Unacked>>,
}

impl Sender {
    async fn put(&self, message: &Upward) -> Result<()> {
        let bytes = socket_frame::encode(message);
        self.sink
            .lock()
            .await
            .send(Message::binary(bytes))
            .await
            .context("writing to the socket")
    }

    /// Sends events in one message; they stay in hand until acked.
    pub async fn send(&self, events: Vec<ClientEvent>) -> Result<()> {
        self.unacked().keep(&events);
        self.put(&Upward::Events(events)).await
    }

    fn unacked(&self) -> std::sync::MutexGuard<'_, Unacked> {
        self.unacked.lock().expect("unacked lock")
    }
}

/// Events sent and not yet acked, by seq.
#[derive(Default)]
struct Unacked(BTreeMap<u64, ClientEvent>);

impl Unacked {
    fn keep(&mut self, events: &[ClientEvent]) {
        self.0
            .extend(events.iter().map(|event| (event.seq, event.clone())));
    }

    /// Forgets what the server has applied: every seq up to `acked`.
    fn acked(&mut self, acked: u64) {
        self.0 = self.0.split_off(&(acked + 1));
    }

    /// What `resend` asks for, of what is still unacked, in seq order.
    fn pick(&self, resend: &Resend) -> Vec<ClientEvent> {
        self.0
            .iter()
            .filter(|(seq, _)| resend.busy.contains(seq) || resend.from.is_some_and(|f| **seq >= f))
            .map(|(_, event)| event.clone())
            .collect()
    }
}

/// What one frame asks the tab to resend.
#[derive(Default)]
struct Resend {
    /// Events the server was busy for.
    busy: Vec<u64>,
    /// Every unacked event from this seq on (the stream's `missing`).
    from: Option<u64>,
}

/// Opens a socket, says hello for a new session and returns it, with the
/// sending half and the task that follows the stream into `follower`.
pub async fn open(
    addr: SocketAddr,
    follower: Follower,
) -> Result<(SessionInfo, Sender, JoinHandle<()>)> {
    let (sink, mut frames) = connect(addr, SOCKET_PATH).await?.split();
    let sender = Sender {
        sink: Arc::new(tokio::sync::Mutex::new(sink)),
        unacked: Arc::default(),
    };
    let hello = Upward::Hello {
        resume: None,
        since: None,
    };
    sender.put(&hello).await?;
    let (mut first, bytes) = next_frame(&mut frames)
        .await
        .map_err(|why| anyhow!("no answer to hello: {why}"))?;
    let info = match first.first() {
        Some(Downward::Session(info)) => info.clone(),
        Some(Downward::Failed(error)) => bail!("hello failed: {error}"),
        other => bail!("hello answered {other:?}"),
    };
    first.remove(0);
    let task = tokio::spawn(follow(frames, sender.clone(), follower, first, bytes));
    Ok((info, sender, task))
}

/// The next frame the server sent, and its size; why there is none.
async fn next_frame(frames: &mut SplitStream<WebSocket>) -> Result<(Vec<Downward>, usize), String> {
    loop {
        let bytes = match frames.next().await {
            None => return Err("socket closed".to_owned()),
            Some(Err(error)) => return Err(format!("socket failed: {error}")),
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(Message::Text(text))) => text.into(),
            Some(Ok(Message::Close(close))) => {
                return Err(format!("socket closed by the server: {close:?}"));
            }
            // Control frames: tungstenite answers pings itself.
            Some(Ok(_)) => continue,
        };
        return socket_frame::decode(&bytes)
            .map(|frame| (frame, bytes.len()))
            .map_err(|error| format!("the socket failed: {error}"));
    }
}

/// Applies every frame to the mirror, from `first` (what came with the
/// session), until the socket ends or breaks.
async fn follow(
    mut frames: SplitStream<WebSocket>,
    sender: Sender,
    mut follower: Follower,
    first: Vec<Downward>,
    first_bytes: usize,
) {
    let (mut frame, mut bytes) = (first, first_bytes);
    let broken = loop {
        if let Err(why) = take(frame, bytes, &sender, &mut follower).await {
            break why;
        }
        match next_frame(&mut frames).await {
            Ok((next, size)) => (frame, bytes) = (next, size),
            Err(why) => break why,
        }
    };
    follower.broken(broken);
}

/// Acts on one frame of `bytes` bytes.
async fn take(
    frame: Vec<Downward>,
    bytes: usize,
    sender: &Sender,
    follower: &mut Follower,
) -> Result<(), String> {
    let mut resend = Resend::default();
    for downward in frame {
        match downward {
            Downward::Stream(message) => {
                follower.apply(&message, bytes)?;
                if let ServerMessage::Update(update) = &message
                    && let Some(missing) = update.missing
                {
                    resend.from = Some(resend.from.map_or(missing, |f| f.min(missing)));
                }
            }
            Downward::Receipt {
                seq,
                receipt: Receipt::Busy,
            } => resend.busy.push(seq),
            Downward::Receipt {
                seq,
                receipt: Receipt::Refused(refusal),
            } => return Err(format!("event {seq} refused: {}", refusal.message)),
            // Taken: a socket need not say so, and no harm if it does.
            Downward::Receipt { .. } => {}
            Downward::Ping => sender
                .put(&Upward::Pong)
                .await
                .map_err(|error| format!("{error:#}"))?,
            Downward::Session(info) => {
                return Err(format!("a second session on one socket: {info:?}"));
            }
            Downward::Failed(error) => return Err(format!("the socket failed: {error}")),
        }
    }
    let events = {
        let mut unacked = sender.unacked();
        unacked.acked(follower.acked());
        unacked.pick(&resend)
    };
    if !events.is_empty() {
        follower.count_resent(events.len());
        let sender = sender.clone();
        // Later, and not from the reader, which must keep reading.
        tokio::spawn(async move {
            tokio::time::sleep(BUSY_PAUSE).await;
            // A socket that fails here fails the reader too.
            let _ = sender.put(&Upward::Events(events)).await;
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use stateside_wire::Update;
    use tokio::net::TcpListener;
    use tokio_tungstenite::accept_async;

    use super::*;
    use crate::{client::Session, transport::Transport};

    fn event(seq: u64) -> ClientEvent {
        ClientEvent {
            seq,
            handler: "bench/increment".to_owned(),
            args: Value::Null,
        }
    }

    #[test]
    fn resends_what_was_busy_or_missing_and_not_acked() {
        let mut unacked = Unacked::default();
        unacked.keep(&(1..=6).map(event).collect::<Vec<_>>());
        let pick = |unacked: &Unacked, busy: &[u64], from| -> Vec<u64> {
            let resend = Resend {
                busy: busy.to_vec(),
                from,
            };
            unacked.pick(&resend).iter().map(|e| e.seq).collect()
        };
        assert_eq!(pick(&unacked, &[2, 5], None), [2, 5]);
        assert_eq!(pick(&unacked, &[1], Some(4)), [1, 4, 5, 6]);
        assert!(pick(&unacked, &[], None).is_empty());
        unacked.acked(4);
        assert_eq!(pick(&unacked, &[2, 5], Some(1)), [5, 6]);
    }

    /// A server that speaks the protocol for one tab the way the real one
    /// must: it pings at once, is busy for seq 2 the first time, and applies
    /// increments in seq order, holding what comes early.
    async fn one_tab(socket: WebSocketStream<TcpStream>) -> Result<()> {
        let (mut sink, mut frames) = socket.split();
        let mut up = async || -> Result<Upward> {
            let bytes = frames.next().await.context("closed")??.into_data();
            assert_eq!(bytes[0], 0, "a value's tag");
            Ok(serde_json::from_slice(&bytes[1..])?)
        };
        let frame = |downs: Vec<Downward>| {
            let mut bytes = vec![0];
            serde_json::to_writer(&mut bytes, &downs).expect("a frame");
            Message::binary(bytes)
        };
        assert_eq!(
            up().await?,
            Upward::Hello {
                resume: None,
                since: None
            }
        );
        let info = SessionInfo {
            token: "t".to_owned(),
            next_seq: 1,
            storage: Vec::new(),
        };
        let snapshot = ServerMessage::Snapshot {
            version: 1,
            acked: 0,
            state: json!({ "bench": { "count": 0 } }),
        };
        let hello = vec![
            Downward::Session(info),
            Downward::Stream(snapshot),
            Downward::Ping,
        ];
        sink.send(frame(hello)).await?;
        assert_eq!(up().await?, Upward::Pong);
        let (mut next, mut version, mut busy_once) = (1, 1, true);
        let mut held = BTreeMap::new();
        while next <= 3 {
            let Upward::Events(events) = up().await? else {
                bail!("events expected");
            };
            let mut downs = Vec::new();
            for event in events {
                if event.seq == 2 && std::mem::take(&mut busy_once) {
                    downs.push(Downward::Receipt {
                        seq: 2,
                        receipt: Receipt::Busy,
                    });
                } else {
                    held.insert(event.seq, event);
                }
            }
            while held.remove(&next).is_some() {
                version += 1;
                let ops = json!([{ "op": "replace", "path": "/bench/count", "value": next }]);
                downs.push(Downward::Stream(ServerMessage::Update(Update {
                    version,
                    ops: serde_json::from_value(ops)?,
                    acked: next,
                    ..Update::default()
                })));
                next += 1;
            }
            sink.send(frame(downs)).await?;
        }
        // Open until the tab goes.
        while frames.next().await.is_some() {}
        Ok(())
    }

    #[tokio::test]
    async fn a_tab_answers_pings_and_resends_what_the_server_was_busy_for() -> Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            one_tab(accept_async(stream).await?).await
        });
        let mut tab = Session::open(Transport::Socket, addr).await?;
        assert_eq!(tab.token(), "t");
        for _ in 0..3 {
            tab.send("bench/increment", Value::Null).await?;
        }
        let view = tab
            .until(|view| view.count == 3, Duration::from_secs(10))
            .await?;
        assert_eq!((view.max_count, view.acked, view.version), (3, 3, 4));
        assert_eq!(tab.resent(), 1);
        drop(tab);
        server.await?
    }
}
