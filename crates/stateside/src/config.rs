//! Engine settings, each with the reason for its default.

use std::time::Duration;

/// How an [`Engine`](crate::Engine) runs its sessions. Every field has a
/// default chosen for a public web app; see each for why.
#[derive(Clone, Debug)]
pub struct Config {
    /// Versioned updates kept per session for replay on reconnect. 256
    /// covers a phone that drops out for a few seconds during a fast stream;
    /// a longer gap costs one snapshot, which is never worse than replaying.
    pub replay_ring: usize,
    /// The replay ring's bound in bytes (of JSON), whatever its count: a
    /// few large updates must not cost what 256 small ones do.
    pub replay_ring_bytes: usize,
    /// Streams (sockets or SSE streams) one session may have open at once.
    /// A tab needs one, and a duplicated tab shares its session; more than
    /// this is a client misbehaving, and each costs a buffer.
    pub max_streams_per_session: usize,
    /// Messages buffered per live stream before a slow reader is cut off and
    /// must resync. Bounded so a stalled tab cannot grow server memory, and
    /// small because the channel preallocates it for every connected tab
    /// (about 32 bytes a slot); a reader that falls behind resyncs from the
    /// replay ring, which keeps far more.
    pub stream_buffer: usize,
    /// Events waiting (queued or held for a missing seq) per session before
    /// the session answers `busy`.
    pub queue_limit: usize,
    /// How far ahead of the next expected seq an event may arrive.
    pub seq_window: u64,
    /// Background tasks one session may run at once; a start beyond it is
    /// refused with a notice, so one tab cannot exhaust the process.
    pub max_tasks_per_session: usize,
    /// Sessions one process holds. At the limit a new tab takes the place
    /// of the longest-idle session; only when none is idle (every one has
    /// a tab, work or a task) is it refused.
    pub max_sessions: usize,
    /// How long an early event waits for a missing seq before the client is
    /// asked to resend. Requests can overtake each other by a few ms; a
    /// lost one (a dropped connection) needs the client to act.
    pub gap_timeout: Duration,
    /// A lock held longer than this logs a warning naming the handler.
    pub lock_hold_warning: Duration,
    /// Sessions idle for this long, with no running task, are freed.
    pub idle_ttl: Duration,
    /// Sessions that no tab ever used (no stream, no event) are freed after
    /// this instead. A browser subscribes within a second or two of the
    /// page load; a minute also covers a slow phone, while a crawler or a
    /// flood of opens leaves nothing behind for an hour.
    pub unused_ttl: Duration,
    /// The tasks of a session that no tab has listened to for this long
    /// are cancelled (as a click on "cancel" would), so that an endless
    /// task left behind by a closed tab does not keep its session, and its
    /// saves, alive forever. Ten minutes outlasts a train tunnel or a
    /// laptop lid; a task meant to outlive its tab belongs in a job queue.
    pub unwatched_task_timeout: Duration,
    /// A tab's socket that has sent nothing for this long sends a ping, and
    /// one that has heard nothing from its tab for three of these is closed.
    /// 5 s: a tab behind a closed laptop lid or a lost phone network is
    /// noticed within 15 s (its session stays for `idle_ttl`), while an idle
    /// tab costs a few bytes each way per period.
    pub keepalive: Duration,
    /// The most a session's states may weigh together, as JSON. A change
    /// that would take them past it is rolled back, and its tab told so in
    /// a notice naming the handler. 1 MiB is far more than a page shows,
    /// and bounds what one tab costs in memory, in saves and in snapshots.
    pub max_state_bytes: usize,
    /// New sessions one client address may open per second, on average,
    /// and in a burst: every `open` and socket hello may create one, and
    /// each costs memory until it expires. A page load opens one; 50 at
    /// once covers an office behind one NAT reopening its tabs after a
    /// restart.
    pub opens_per_second_per_ip: u32,
    /// See [`opens_per_second_per_ip`](Self::opens_per_second_per_ip).
    pub open_burst_per_ip: u32,
    /// Streams (sockets and SSE streams) one client address may hold.
    pub max_streams_per_ip: usize,
    /// Streams the process holds in all; beyond it new ones are refused
    /// (503) rather than run the process out of memory or descriptors.
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` is believed: the client's address
    /// is then the nearest one in it that is not a trusted proxy. Anyone
    /// else's header is ignored, so a client cannot choose the address its
    /// limits are counted under.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest request body, or socket message, a transport accepts, in
    /// bytes (and so the largest event).
    pub max_payload: usize,
    /// The largest file an upload may carry, in bytes. 16 MiB takes a
    /// phone's photo or a document; an app that takes video raises it.
    /// Uploads stream to their handler, so the limit bounds disk and time,
    /// not memory.
    pub max_upload_file_bytes: u64,
    /// The most one upload request may carry, all its files together, in
    /// bytes: four files at the file limit.
    pub max_upload_request_bytes: u64,
    /// The origins (`https://app.example.com`: scheme, host, and the port
    /// unless it is the scheme's default) whose pages may call the
    /// protocol's endpoints. Empty: only `http://` and the `Host` the
    /// request names, which is right for a server reached directly; behind
    /// a proxy that rewrites `Host` or terminates TLS, list the public
    /// origin here.
    pub public_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            replay_ring: 256,
            replay_ring_bytes: 256 << 10,
            max_streams_per_session: 8,
            stream_buffer: 8,
            queue_limit: 1024,
            seq_window: 1024,
            max_tasks_per_session: 256,
            max_sessions: 100_000,
            gap_timeout: Duration::from_millis(500),
            lock_hold_warning: Duration::from_secs(1),
            idle_ttl: Duration::from_secs(3600),
            unused_ttl: Duration::from_secs(60),
            unwatched_task_timeout: Duration::from_secs(600),
            keepalive: Duration::from_secs(5),
            max_state_bytes: 1 << 20,
            opens_per_second_per_ip: 10,
            open_burst_per_ip: 50,
            max_streams_per_ip: 64,
            max_connections: 50_000,
            trusted_proxies: Vec::new(),
            max_payload: stateside_wire::DEFAULT_MAX_PAYLOAD,
            max_upload_file_bytes: 16 << 20,
            max_upload_request_bytes: 64 << 20,
            public_origins: Vec::new(),
        }
    }
}
