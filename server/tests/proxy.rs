//! Behind a real proxy (issue 14, item 11): Debian's nginx, run with
//! `deploy/nginx.conf` as it is (its ports replaced), in front of two server
//! processes on one Redis. The socket and the fallback both work through it,
//! the Origin check holds although nginx rewrites `Host`, and each client is
//! counted under its own address, taken from `X-Forwarded-For` only when
//! nginx sends it.

#[path = "../../crates/stateside/tests/support/redis_server.rs"]
#[allow(dead_code)] // the engine's tests use all of it
mod redis_server;
mod support;

use std::{
    net::{IpAddr, TcpListener, TcpStream},
    process::{Child, Command},
    time::{Duration, Instant},
};

use app::home::{Home, INCREMENT};
use redis_server::RedisServer;
use stateside_wire::OPEN_PATH;
use support::{Address, Instance, Tab, socket::SocketTab};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx on `port` with `deploy/nginx.conf`, its upstreams replaced by
/// `upstreams`; stopped on drop.
struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(port: u16, upstreams: &[&Address]) -> Self {
        let config = include_str!("../../deploy/nginx.conf");
        let servers: String = upstreams
            .iter()
            .map(|address| {
                format!(
                    "        server {};\n",
                    address.base.trim_start_matches("http://")
                )
            })
            .collect();
        let config = config
            .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"))
            .replace(
                "        server 127.0.0.1:3000;\n        server 127.0.0.1:3001;\n",
                &servers,
            );
        assert!(config.contains(&format!(":{port};")), "the listen line");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).unwrap();
        let prefix = format!("{}/", dir.path().display());
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&file)
            .arg("-g")
            .arg(format!(
                "daemon off; pid {prefix}nginx.pid; error_log {prefix}logs/error.log;"
            ))
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start nginx ({error}): `apt-get install nginx` (scripts/setup.sh does)"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, _dir: dir }
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its worker too (after a SIGKILL the
    /// worker would live on, holding the port).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `POST open` from the client address `from`, with `origin` and, if
/// given, a `X-Forwarded-For` of the client's own making; the status.
async fn open(at: &Address, from: &str, origin: &str, forged: Option<&str>) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let mut request = client
        .post(at.url(OPEN_PATH))
        .header("origin", origin)
        .form(&[("resume", "")]);
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx_both_transports_work_origins_hold_and_clients_are_told_apart() {
    let redis = RedisServer::start();
    let store = redis.url();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let args = [
        "--store",
        &store,
        "--public-origin",
        &origin,
        "--trusted-proxy",
        "127.0.0.1",
        // Two new sessions per client address at once, then one a second:
        // what tells clients apart below.
        "--open-burst",
        "2",
        "--open-rate",
        "1",
    ];
    let (a, b) = (Instance::start(&args).await, Instance::start(&args).await);
    let _nginx = Nginx::start(port, &[&a, &b]);
    let proxy = Address {
        base: origin.clone(),
    };

    // The page, with its headers, through the proxy.
    let page = reqwest::get(proxy.url("/")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers().contains_key("content-security-policy"));

    // The socket: upgraded through nginx, with the page's origin although
    // nginx sends `Host: stateside`.
    let mut socket_tab = SocketTab::new();
    let (socket, _) = tokio_tungstenite::connect_async(SocketTab::request(&proxy, Some(&origin)))
        .await
        .expect("the upgrade passes nginx");
    socket_tab.adopt(socket);
    socket_tab
        .say(&stateside_wire::Upward::Hello {
            resume: None,
            since: None,
        })
        .await
        .unwrap();
    socket_tab.until(|tab| tab.session.is_some()).await;
    let events: Vec<_> = (0..3).map(|_| socket_tab.event(INCREMENT, ())).collect();
    socket_tab.send(&events).await.unwrap();
    socket_tab.settled().await;
    assert_eq!(socket_tab.document().state::<Home>().unwrap().count, 3);

    // The fallback: POST + SSE, to the instance nginx keeps this client on.
    let mut tab = Tab::open(&proxy).await;
    tab.connect(&proxy, None).await;
    for _ in 0..4 {
        let event = tab.event(INCREMENT, ());
        tab.send(&proxy, &[event]).await;
    }
    tab.settled().await;
    assert_eq!(tab.document().state::<Home>().unwrap().count, 4);

    // The Origin check holds behind the proxy, scheme included.
    assert_eq!(
        open(&proxy, "127.0.0.1", "http://evil.example", None).await,
        403
    );
    let https = origin.replacen("http://", "https://", 1);
    assert_eq!(open(&proxy, "127.0.0.1", &https, None).await, 403);
    let refused =
        tokio_tungstenite::connect_async(SocketTab::request(&proxy, Some("http://evil.example")))
            .await;
    assert!(refused.is_err(), "a cross-origin upgrade through nginx");

    // Client 127.0.0.2 uses up its new sessions...
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(open(&proxy, "127.0.0.2", &origin, None).await);
        if statuses.ends_with(&[429, 429]) {
            break;
        }
    }
    assert!(statuses.ends_with(&[429, 429]), "{statuses:?}");
    // ... and cannot pick another address: nginx replaces the header it
    // sends (at once, before a second passes and a session is earned back).
    assert_eq!(
        open(&proxy, "127.0.0.2", &origin, Some("127.0.0.9")).await,
        429
    );
    // 127.0.0.3, behind the same proxy, has its own: the servers read the
    // client from nginx's X-Forwarded-For.
    assert_eq!(open(&proxy, "127.0.0.3", &origin, None).await, 200);
    // ... and a server believes the header only from nginx.
    assert_eq!(open(&a, "127.0.0.4", &origin, Some("127.0.0.2")).await, 200);
}
