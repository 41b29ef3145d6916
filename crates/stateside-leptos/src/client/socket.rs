//! The primary transport: the tab's one WebSocket, opened through the
//! [`socket`](crate::socket::socket) server function.
//!
//! The socket opens with [`Upward::Hello`] (the token the tab holds and
//! the document version it has) and the server answers
//! [`Downward::Session`]; from then on events go up as batches, pipelined
//! (the socket keeps them in order, so nothing waits for a reply), and the
//! stream, receipts and pings come down in frames. Receipts come only for
//! events that were not taken; acks come on the stream.
//!
//! The socket is taken for dead when nothing has come from the server for
//! three keepalive periods: the server pings a quiet socket every period,
//! so silence means the connection is gone even if the browser has not
//! noticed yet.

use std::{pin::Pin, time::Duration};

use futures::{
    FutureExt, Stream, StreamExt,
    channel::{mpsc, oneshot},
};
use stateside_wire::{Downward, ProtocolError, Upward};

use super::{Ending, Link as AnyLink, Outbox, apply::apply, resume_point, stored_token};

/// Three of the server's keepalive periods (it pings after 5 s of quiet).
const SILENCE_LIMIT: Duration = Duration::from_secs(15);

/// How events go up an open socket.
pub(super) struct Link {
    upward: mpsc::UnboundedSender<Upward>,
}

impl Link {
    /// Sends every unsent event, in batches, without waiting for replies.
    pub(super) fn send_all(&self, outbox: &mut Outbox) {
        loop {
            let batch = outbox.next_batch();
            // A closed socket is about to be reported by its reader; the
            // next connection resends what the server lacks.
            if batch.is_empty() || self.upward.unbounded_send(Upward::Events(batch)).is_err() {
                break;
            }
        }
    }
}

/// What the socket's reader heard next.
enum Heard {
    Frame(Option<Result<Vec<Downward>, ProtocolError>>),
    Silence,
    EndedByPage,
}

/// Opens the socket and follows it to its end.
pub(super) async fn run(connection: u64, ended: oneshot::Receiver<()>) -> Ending {
    let asked = stored_token();
    let (upward, outgoing) = mpsc::unbounded();
    let hello = Upward::Hello {
        resume: asked.clone(),
        since: resume_point(asked.as_deref()),
    };
    // Held by the socket until it opens.
    let _ = upward.unbounded_send(hello);
    let frames = match crate::socket::socket(outgoing.map(Ok).into()).await {
        Ok(frames) => frames,
        Err(_) => return Ending::Refused,
    };
    let mut frames: Pin<Box<dyn Stream<Item = _> + Send>> = frames.into();
    // Fused by its own flag: a receiver whose sender was dropped counts as
    // terminated, and `select!` would never poll it to see the end.
    let mut ended = ended.fuse();
    let mut session_open = false;
    loop {
        let heard = futures::select_biased! {
            _ = ended => Heard::EndedByPage,
            frame = frames.next().fuse() => Heard::Frame(frame),
            () = gloo_timers::future::sleep(SILENCE_LIMIT).fuse() => Heard::Silence,
        };
        let frame = match heard {
            Heard::Frame(Some(Ok(frame))) => frame,
            Heard::EndedByPage => return Ending::Ended,
            // Closed, failed or silent: before the session, maybe refused.
            Heard::Frame(_) | Heard::Silence if !session_open => return Ending::Refused,
            Heard::Frame(_) | Heard::Silence => return Ending::Ended,
        };
        for downward in frame {
            match downward {
                Downward::Session(info) => {
                    session_open = true;
                    let link = AnyLink::Socket(Link {
                        upward: upward.clone(),
                    });
                    super::session_opened(connection, &info, asked.as_deref(), link);
                }
                Downward::Stream(message) => {
                    if apply(message).is_err() {
                        return Ending::Ended;
                    }
                }
                Downward::Receipt { seq, receipt } => super::receipt(seq, receipt),
                Downward::Ping => {
                    let _ = upward.unbounded_send(Upward::Pong);
                }
                // The server answered, so the socket works: a failure here
                // (shutting down, at its session limit) is retried on it.
                Downward::Failed(_) => return Ending::Ended,
            }
        }
    }
}
