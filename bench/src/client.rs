//! One browser tab speaking Stateside's protocol on either transport (see
//! `transport.rs`): the session, events numbered as the browser numbers
//! them, and the stream followed into a checking mirror (`view.rs`). The
//! workloads take a [`Transport`] and are written once against this.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Result, anyhow, bail};
use serde_json::Value;
use stateside_wire::{ClientEvent, SessionInfo};
use tokio::{sync::watch, task::JoinHandle, time::Instant};

use crate::{
    conn::Pool,
    fallback, socket,
    transport::Transport,
    view::{Follower, View},
};

/// The bench state's handlers, as `app/src/bench.rs` names them.
pub mod handler {
    pub const INCREMENT: &str = "bench/increment";
    pub const INCREMENT_TAGGED: &str = "bench/increment_tagged";
    pub const SLOW: &str = "bench/slow";
    pub const BG_INCREMENT: &str = "bench/bg_increment";
    pub const BG_SLOW: &str = "bench/bg_slow";
    pub const APPEND_ITEM: &str = "bench/append_item";
}

/// How the tab's events go up.
enum Link {
    /// POSTs on the tab's connections.
    Http(Arc<Pool>),
    /// The tab's socket.
    Socket(socket::Sender),
}

pub struct Session {
    token: String,
    link: Link,
    next_seq: u64,
    /// Events resent after the server was busy, over HTTP (on a socket the
    /// reader resends, and counts in the view).
    resent_posts: u64,
    view: watch::Receiver<View>,
    follower: JoinHandle<()>,
}

impl Session {
    /// Opens a session on `transport`; over HTTP, with a connection of its
    /// own for events.
    pub async fn open(transport: Transport, addr: SocketAddr) -> Result<Self> {
        match transport {
            Transport::Http => Self::open_with(addr, Pool::new(addr, 1)).await,
            Transport::Socket => {
                let (follower, view) = Follower::new();
                let (info, sender, task) = socket::open(addr, follower).await?;
                Self::hydrated(info, Link::Socket(sender), view, task).await
            }
        }
    }

    /// Opens a session over HTTP whose events go through `posts`, shared
    /// with other tabs or not.
    pub async fn open_with(addr: SocketAddr, posts: Arc<Pool>) -> Result<Self> {
        let (follower, view) = Follower::new();
        let (info, task) = fallback::open(addr, &posts, follower).await?;
        Self::hydrated(info, Link::Http(posts), view, task).await
    }

    /// The session once its first snapshot has arrived.
    async fn hydrated(
        info: SessionInfo,
        link: Link,
        view: watch::Receiver<View>,
        follower: JoinHandle<()>,
    ) -> Result<Self> {
        let mut session = Self {
            token: info.token,
            link,
            next_seq: info.next_seq,
            resent_posts: 0,
            view,
            follower,
        };
        session
            .until(|view| view.hydrated, Duration::from_secs(60))
            .await?;
        Ok(session)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn view(&self) -> View {
        self.view.borrow().clone()
    }

    /// Sends one event in its own request or message.
    pub async fn send(&mut self, handler: &str, args: Value) -> Result<()> {
        self.send_batch(&[(handler, args)]).await
    }

    /// Sends events in one request or message, as the browser client
    /// batches them. Over HTTP this returns once every event was taken
    /// (what the server was busy for is resent after a pause); on a socket,
    /// once the message is written (the reader resends what was busy).
    pub async fn send_batch(&mut self, events: &[(&str, Value)]) -> Result<()> {
        let events = events
            .iter()
            .map(|(handler, args)| {
                self.next_seq += 1;
                ClientEvent {
                    seq: self.next_seq - 1,
                    handler: (*handler).to_owned(),
                    args: args.clone(),
                }
            })
            .collect();
        match &self.link {
            Link::Http(posts) => {
                self.resent_posts += fallback::send(posts, &self.token, events).await?;
                Ok(())
            }
            Link::Socket(sender) => sender.send(events).await,
        }
    }

    /// Events resent because the server was busy for them.
    pub fn resent(&self) -> u64 {
        self.resent_posts + self.view.borrow().resent
    }

    /// Waits until the mirror satisfies `done`; fails if the stream broke.
    pub async fn until(&mut self, done: impl Fn(&View) -> bool, limit: Duration) -> Result<View> {
        let waited = tokio::time::timeout(
            limit,
            self.view
                .wait_for(|view| view.broken.is_some() || done(view)),
        )
        .await;
        let view = waited
            .map_err(|_| anyhow!("no matching update within {limit:?}"))?
            .map_err(|_| anyhow!("stream follower gone"))?
            .clone();
        match &view.broken {
            Some(why) => bail!("stream broken: {why}"),
            None => Ok(view),
        }
    }

    /// Sends one event and waits for both its reply and the update that
    /// satisfies `done`; returns the time until the later of the two.
    pub async fn round_trip(
        &mut self,
        handler: &str,
        args: Value,
        done: impl Fn(&View) -> bool,
    ) -> Result<Duration> {
        let start = Instant::now();
        self.send(handler, args).await?;
        let replied = Instant::now();
        let view = self.until(done, Duration::from_secs(120)).await?;
        Ok(replied.max(view.at) - start)
    }

    /// A round trip of `increment`.
    pub async fn increment(&mut self) -> Result<Duration> {
        let target = self.view.borrow().max_count + 1;
        self.round_trip(handler::INCREMENT, Value::Null, |view| view.count >= target)
            .await
    }

    /// Closes this tab's idle event connections, if it has any besides
    /// its stream (a socket carries both).
    pub fn close_posts(&self) {
        if let Link::Http(posts) = &self.link {
            posts.close_idle();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.follower.abort();
    }
}
