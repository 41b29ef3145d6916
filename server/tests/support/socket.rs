//! A tab that speaks the socket protocol ([`SOCKET_PATH`]) to a real server
//! over a real WebSocket, mirroring its document with the wire crate's own
//! apply, as the browser does.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use stateside_wire::{
    ClientEvent, Document, Downward, HandlerId, ProtocolError, Receipt, SOCKET_PATH, ServerMessage,
    SessionInfo, Upward, socket_frame, testing::Mirror,
};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use super::{Address, Lost};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One tab on a socket.
pub struct SocketTab {
    pub token: String,
    pub next_seq: u64,
    /// The session the server confirmed for the current socket.
    pub session: Option<SessionInfo>,
    mirror: Mirror,
    /// Every stream message the current socket delivered, in order.
    pub received: Vec<ServerMessage>,
    /// Receipts the current socket sent (only refusals and busy ones).
    pub receipts: Vec<(u64, Receipt)>,
    /// Pings the current socket sent.
    pub pings: usize,
    /// Why the server ended the current socket, if it said.
    pub failed: Option<ProtocolError>,
    /// Whether pings are answered, as a live tab does.
    pub answers_pings: bool,
    socket: Option<Socket>,
}

impl SocketTab {
    /// A tab with no session yet and no socket.
    pub fn new() -> Self {
        Self::join("")
    }

    /// A tab holding `token` (which the server may or may not know).
    pub fn join(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            next_seq: 1,
            session: None,
            mirror: Mirror::default(),
            received: Vec::new(),
            receipts: Vec::new(),
            pings: 0,
            failed: None,
            answers_pings: true,
            socket: None,
        }
    }

    /// A new session on a new socket.
    pub async fn open(at: &Address) -> Self {
        let mut tab = Self::new();
        tab.connect(at, None).await.expect("a socket opens");
        tab
    }

    /// The WebSocket upgrade request, with `origin` if given.
    pub fn request(
        at: &Address,
        origin: Option<&str>,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        let url = at.url(SOCKET_PATH).replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        request
    }

    /// Opens a socket and says hello, as the browser does on every
    /// (re)connect: with its token, and the version it holds (`since`),
    /// then waits for the server's answer. A token other than the tab's
    /// means a new session: the tab takes it, and its seqs start over.
    pub async fn connect(&mut self, at: &Address, since: Option<u64>) -> Result<(), Lost> {
        let (socket, _) = tokio_tungstenite::connect_async(Self::request(at, None))
            .await
            .map_err(|error| Lost::Socket(error.to_string()))?;
        self.hello(socket, since).await
    }

    /// Like [`connect`](Self::connect), with an upgrade request built by
    /// the caller (extra headers, say).
    pub async fn connect_with(
        &mut self,
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<(), Lost> {
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| Lost::Socket(error.to_string()))?;
        self.hello(socket, None).await
    }

    /// Says hello on `socket` and waits for the server's answer.
    async fn hello(&mut self, socket: Socket, since: Option<u64>) -> Result<(), Lost> {
        self.socket = Some(socket);
        self.session = None;
        self.failed = None;
        self.received.clear();
        self.receipts.clear();
        self.pings = 0;
        let resume = (!self.token.is_empty()).then(|| self.token.clone());
        self.say(&Upward::Hello { resume, since }).await?;
        self.try_until(Duration::from_secs(20), |tab| tab.session.is_some())
            .await
    }

    /// Like [`connect`](Self::connect), on a TCP socket whose receive
    /// buffer is `bytes` (as far as the kernel allows): a tab that reads
    /// slowly then pushes back on the server at once.
    pub async fn connect_narrow(&mut self, at: &Address, bytes: u32) -> Result<(), Lost> {
        let host = at.base.trim_start_matches("http://");
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(bytes).unwrap();
        let stream = tcp.connect(host.parse().unwrap()).await.unwrap();
        let stream = MaybeTlsStream::Plain(stream);
        let (socket, _) = tokio_tungstenite::client_async(Self::request(at, None), stream)
            .await
            .map_err(|error| Lost::Socket(error.to_string()))?;
        self.hello(socket, None).await
    }

    /// Takes over a socket opened elsewhere, without a hello.
    pub fn adopt(&mut self, socket: Socket) {
        self.socket = Some(socket);
    }

    /// Drops the socket, as a lost connection does.
    pub fn disconnect(&mut self) {
        self.socket = None;
    }

    /// An event with this tab's next seq.
    pub fn event<A: Serialize>(&mut self, handler: HandlerId<A>, args: A) -> ClientEvent {
        let mut event = handler.call(&args).unwrap();
        event.seq = self.next_seq;
        self.next_seq += 1;
        event
    }

    /// Sends events up, as they are.
    pub async fn send(&mut self, events: &[ClientEvent]) -> Result<(), Lost> {
        self.say(&Upward::Events(events.to_vec())).await
    }

    /// Sends one message up.
    pub async fn say(&mut self, message: &Upward) -> Result<(), Lost> {
        self.raw(Message::Binary(socket_frame::encode(message).into()))
            .await
    }

    /// Sends any WebSocket message, well-formed or not.
    pub async fn raw(&mut self, message: Message) -> Result<(), Lost> {
        let socket = self.socket.as_mut().ok_or(Lost::StreamEnded)?;
        socket
            .send(message)
            .await
            .map_err(|error| Lost::Socket(error.to_string()))
    }

    /// The copy of the session document this tab holds.
    pub fn document(&self) -> &Document {
        self.mirror.document()
    }

    /// Makes this tab hold `document`, as a tab that fell behind would.
    pub fn hold(&mut self, document: Document) {
        self.mirror = Mirror::new(document);
    }

    /// Reads frames until `done` holds, applying every stream message in
    /// order (a gap or a patch that does not apply fails the test).
    pub async fn until(&mut self, done: impl Fn(&SocketTab) -> bool) {
        self.try_until(Duration::from_secs(20), done)
            .await
            .expect("the condition was reached in time");
    }

    pub async fn try_until(
        &mut self,
        within: Duration,
        done: impl Fn(&SocketTab) -> bool,
    ) -> Result<(), Lost> {
        tokio::time::timeout(within, async {
            while !done(self) {
                self.read().await?;
            }
            Ok(())
        })
        .await
        .map_err(|_| Lost::TimedOut)?
    }

    /// Reads until the server closes the socket.
    pub async fn closed(&mut self) {
        let ended = self.try_until(Duration::from_secs(30), |_| false).await;
        assert!(
            matches!(ended, Err(Lost::StreamEnded)),
            "the socket was not closed: {ended:?}"
        );
    }

    /// Reads one WebSocket message and takes in what it carries.
    async fn read(&mut self) -> Result<(), Lost> {
        let socket = self.socket.as_mut().ok_or(Lost::StreamEnded)?;
        let bytes = match socket.next().await {
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(Message::Close(_))) | None => {
                self.socket = None;
                return Err(Lost::StreamEnded);
            }
            Some(Ok(_)) => return Ok(()),
            Some(Err(error)) => {
                self.socket = None;
                return Err(Lost::Socket(error.to_string()));
            }
        };
        let frame = socket_frame::decode(&bytes).expect("a frame of the protocol");
        assert!(!frame.is_empty(), "an empty frame");
        for message in frame {
            match message {
                Downward::Session(info) => {
                    if info.token != self.token {
                        self.token = info.token.clone();
                        self.next_seq = info.next_seq;
                        self.mirror = Mirror::default();
                    }
                    self.session = Some(info);
                }
                Downward::Stream(message) => {
                    if let Err(violation) = self.mirror.apply(&message) {
                        panic!("{violation}: {message:?}");
                    }
                    self.received.push(message);
                }
                Downward::Receipt { seq, receipt } => self.receipts.push((seq, receipt)),
                Downward::Ping => {
                    self.pings += 1;
                    if self.answers_pings {
                        self.say(&Upward::Pong).await?;
                    }
                }
                Downward::Failed(error) => self.failed = Some(error),
            }
        }
        Ok(())
    }

    /// Waits until everything sent so far is acknowledged.
    pub async fn settled(&mut self) {
        let target = self.next_seq - 1;
        self.until(|tab| tab.document().acked() >= target).await;
    }
}
