//! One tab's socket, from its hello to its close.
//!
//! 1. The first message must be [`Upward::Hello`], within three keepalive
//!    periods. The session it names is resumed (from memory, then the
//!    store), or a new one is opened; the tab is told which
//!    ([`Downward::Session`]), then gets its backlog (a replay after
//!    `since` when the session is the one it named and the ring still has
//!    it, else a snapshot), then the live stream.
//! 2. [`Upward::Events`] are submitted in order; only what the tab must act
//!    on is answered ([`Receipt::Refused`]). When the session's queue is
//!    full, the socket holds the rest of the batch and stops reading until
//!    there is room: TCP's backpressure slows the tab, instead of a `Busy`
//!    that the tab would have to resend (POST answers `Busy`, as it cannot
//!    wait). The stream goes on meanwhile.
//! 3. Every message ready at once goes in one frame, of about
//!    [`BATCH_BYTES`] at most.
//! 4. A socket that has sent nothing for a keepalive period, or heard
//!    nothing, sends [`Downward::Ping`]; one that has heard nothing for
//!    three periods, or cannot write for as long, is closed.
//! 5. Anything unreadable gets [`Downward::Failed`] and the socket closes;
//!    the session is not touched. When the engine closes (a shutdown), the
//!    socket ends with `Failed(ShuttingDown)`.
//!
//! The token travels in frames only: it is never logged here.

use std::{collections::VecDeque, time::Duration};

use axum::extract::ws::{Message, WebSocket};
use stateside::{Engine, RequestContext, SessionHandle};
use stateside_wire::{ClientEvent, Downward, ProtocolError, Receipt, Upward, socket_frame::Writer};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::{
    cursor::{BATCH_BYTES, Cursor, record_size},
    session,
};

/// How many keepalive periods of silence make a tab count as gone.
const SILENT_PERIODS: u32 = 3;

/// How often a socket holding events looks for room in its session's queue.
const ROOM_POLL: Duration = Duration::from_millis(1);

/// Serves `socket` until the tab goes or the engine closes.
///
/// The hello and the ending are boxed: the hello may load its session from
/// a store or join it through Redis, whose futures are large, and inline
/// they would size this task (to about 4 KiB) for as long as the tab stays,
/// which it spends in `follow`.
pub(super) async fn run(socket: WebSocket, engine: Engine, context: RequestContext) {
    let config = engine.config();
    let mut link = Link::new(socket, config.keepalive, config.max_payload);
    let ended = match Box::pin(greet(&mut link, &engine, context)).await {
        Ok((session, cursor, frame)) => follow(&mut link, &engine, &session, cursor, frame).await,
        Err(ended) => ended,
    };
    Box::pin(link.end(ended)).await;
}

/// Waits for the tab's hello and opens or resumes its session; returns
/// the session, its cursor, and the frame that tells the tab its session.
async fn greet(
    link: &mut Link,
    engine: &Engine,
    context: RequestContext,
) -> Result<(SessionHandle, Cursor, Writer), Ended> {
    let (resume, since) = match timeout(link.patience(), link.recv()).await {
        Ok(Some(Ok(Upward::Hello { resume, since }))) => (resume, since),
        Ok(Some(Ok(_))) => {
            return Err(Ended::Failed(malformed(
                "the first message must be a hello",
            )));
        }
        Ok(Some(Err(error))) => return Err(Ended::Failed(error)),
        Ok(None) | Err(_) => return Err(Ended::Closed),
    };
    let session = session::open_or_resume(engine, resume.as_deref())
        .await
        .map_err(Ended::Failed)?;
    session.connected(context);
    let info = session::info(engine, &session);
    // A new session starts from its snapshot, whatever the tab held.
    let since = since.filter(|_| resume.as_deref() == Some(info.token.as_str()));
    let mut frame = Writer::default();
    frame.push(&Downward::Session(info));
    let cursor = Cursor::new(session.clone(), since).map_err(Ended::Failed)?;
    Ok((session, cursor, frame))
}

/// How a socket ended.
enum Ended {
    /// The tab closed it or the connection broke: nothing more to say.
    Gone,
    /// The tab fell silent, or its session left this process (to
    /// another instance): close, and let the tab reconnect.
    Closed,
    /// Tell the tab why, then close.
    Failed(ProtocolError),
}

/// The socket's life after the hello: `frame` holds what is to be sent.
async fn follow(
    link: &mut Link,
    engine: &Engine,
    session: &SessionHandle,
    mut cursor: Cursor,
    mut frame: Writer,
) -> Ended {
    // Read, not yet taken: the session's queue was full.
    let mut held = VecDeque::new();
    loop {
        while frame.len() < BATCH_BYTES {
            let Some(message) = cursor.ready() else { break };
            record_size(frame.push_stream(&message));
        }
        if !frame.is_empty() && !link.send(std::mem::take(&mut frame)).await {
            return Ended::Gone;
        }
        let check = link.next_check();
        // Each branch is cancel-safe: the socket's and the cursor's reads
        // keep what they have read, so the one that loses a race loses
        // nothing.
        tokio::select! {
            up = link.recv(), if held.is_empty() => match up {
                None => return Ended::Gone,
                Some(Err(error)) => return Ended::Failed(error),
                Some(Ok(Upward::Events(events))) => {
                    held.extend(events);
                    submit_while_room(session, &mut held, &mut frame);
                }
                Some(Ok(Upward::Pong)) => {}
                Some(Ok(Upward::Hello { .. })) => {
                    return Ended::Failed(malformed("a second hello on one socket"));
                }
            },
            message = cursor.next() => match message {
                Some(message) => record_size(frame.push_stream(&message)),
                // The session's streams end when the engine closes, or
                // when another instance takes the session over.
                None if engine.is_accepting() => return Ended::Closed,
                None => return Ended::Failed(ProtocolError::ShuttingDown),
            },
            () = sleep(ROOM_POLL), if !held.is_empty() => {
                submit_while_room(session, &mut held, &mut frame);
            }
            () = sleep_until(check) => {
                if !link.keepalive(&mut frame) {
                    return Ended::Closed;
                }
            }
        }
    }
}

/// Submits `held` events in order while the session has room for them,
/// answering the refused ones.
fn submit_while_room(
    session: &SessionHandle,
    held: &mut VecDeque<ClientEvent>,
    frame: &mut Writer,
) {
    while session.has_room() {
        let Some(event) = held.pop_front() else { break };
        let seq = event.seq;
        let receipt = session::receipt(session.submit(event));
        // `Busy` only if something else filled the queue meanwhile.
        if matches!(receipt, Receipt::Refused(_) | Receipt::Busy) {
            frame.push(&Downward::Receipt { seq, receipt });
        }
    }
    if held.is_empty() {
        // An idle socket keeps no room for a batch it no longer has.
        held.shrink_to(0);
    }
}

fn malformed(why: &str) -> ProtocolError {
    ProtocolError::Malformed(why.to_owned())
}

/// The socket, and when it last sent and heard anything.
struct Link {
    socket: WebSocket,
    keepalive: Duration,
    max_payload: usize,
    sent: Instant,
    heard: Instant,
    pinged: Instant,
}

impl Link {
    fn new(socket: WebSocket, keepalive: Duration, max_payload: usize) -> Self {
        let now = Instant::now();
        Self {
            socket,
            keepalive,
            max_payload,
            sent: now,
            heard: now,
            pinged: now,
        }
    }

    /// How long the tab may be silent, or the socket stuck, before the
    /// tab counts as gone.
    fn patience(&self) -> Duration {
        self.keepalive * SILENT_PERIODS
    }

    /// The next message up: `None` once the tab is gone. WebSocket control
    /// frames only count as signs of life.
    async fn recv(&mut self) -> Option<Result<Upward, ProtocolError>> {
        loop {
            let message = match self.socket.recv().await? {
                Ok(message) => message,
                Err(error) => return self.read_failed(error),
            };
            self.heard = Instant::now();
            return Some(match message {
                Message::Binary(bytes) => stateside_wire::socket_frame::decode_upward(&bytes),
                Message::Text(text) => {
                    stateside_wire::socket_frame::decode_upward(text.as_str().as_bytes())
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(_) => return None,
            });
        }
    }

    /// A message that could not be read: too large or not WebSocket is the
    /// tab's fault, and it is told; a broken connection just ends.
    fn read_failed(&self, error: axum::Error) -> Option<Result<Upward, ProtocolError>> {
        use tungstenite::Error;
        match error.into_inner().downcast::<Error>().map(|error| *error) {
            Ok(Error::Capacity(_)) => Some(Err(ProtocolError::TooLarge {
                limit: self.max_payload,
            })),
            Ok(error @ (Error::Protocol(_) | Error::Utf8(_))) => {
                Some(Err(ProtocolError::Malformed(error.to_string())))
            }
            _ => None,
        }
    }

    /// Sends a frame; false if the tab is gone or has not taken it within
    /// [`patience`](Self::patience).
    async fn send(&mut self, frame: Writer) -> bool {
        let message = Message::Binary(frame.finish().into());
        let sent = timeout(self.patience(), self.socket.send(message)).await;
        self.sent = Instant::now();
        matches!(sent, Ok(Ok(())))
    }

    /// When [`keepalive`](Self::keepalive) next has something to do.
    fn next_check(&self) -> Instant {
        let ping = (self.sent.min(self.heard.max(self.pinged))) + self.keepalive;
        ping.min(self.heard + self.patience())
    }

    /// Adds a ping to `frame` if the socket has been quiet either way;
    /// false once the tab has been silent too long.
    fn keepalive(&mut self, frame: &mut Writer) -> bool {
        let now = Instant::now();
        if now >= self.heard + self.patience() {
            return false;
        }
        if now >= self.sent.min(self.heard.max(self.pinged)) + self.keepalive {
            frame.push(&Downward::Ping);
            self.pinged = now;
        }
        true
    }

    /// Tells the tab why its socket ends, then closes it.
    async fn fail(mut self, error: ProtocolError) {
        tracing::debug!(%error, "socket failed");
        let mut frame = Writer::default();
        frame.push(&Downward::Failed(error));
        if self.send(frame).await {
            self.close().await;
        }
    }

    /// Says goodbye as `ended` calls for.
    async fn end(self, ended: Ended) {
        match ended {
            Ended::Gone => {}
            Ended::Closed => self.close().await,
            Ended::Failed(error) => self.fail(error).await,
        }
    }

    /// Closes the socket, if the tab still listens.
    async fn close(mut self) {
        let _ = timeout(self.keepalive, self.socket.send(Message::Close(None))).await;
    }
}
