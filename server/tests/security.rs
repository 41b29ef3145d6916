//! Safe on the public internet (issue 14): what a credential, an origin, a
//! client action, a response's headers and a failure look like from outside,
//! each over the real socket of a real server process.

#[path = "../../crates/stateside/tests/support/redis_server.rs"]
#[allow(dead_code)] // the engine's tests use all of it
mod redis_server;
mod support;

use std::{path::Path, process::Command, time::Duration};

use app::home::{Home, INCREMENT};
use redis_server::RedisServer;
use serde::{Deserialize, Serialize};
use stateside_wire::{Action, HandlerId, OPEN_PATH, Receipt, RefusalReason, ServerMessage, State};
use support::{Address, Instance, Tab, socket::SocketTab};
use tokio_tungstenite::tungstenite::Error as WsError;

/// The README's ACL user for the server: its keys and channels, no
/// dangerous commands; the default user off.
const ACL: &[&str] = &[
    "--user",
    "default",
    "off",
    "--user",
    "app",
    "on",
    ">s3cret",
    "~stateside:*",
    "&stateside:*",
    "+@all",
    "-@dangerous",
];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `redis-cli` as the ACL user `app`, one command, its lines.
fn redis_cli(redis: &RedisServer, command: &[&str]) -> Vec<String> {
    let output = Command::new("redis-cli")
        .args([
            "-p",
            &redis.port.to_string(),
            "--user",
            "app",
            "--pass",
            "s3cret",
        ])
        .args(["--no-auth-warning", "--raw"])
        .args(command)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Issue 14, item 5: a token in Redis's key or channel names lets anyone who
/// can list them take a session over; in a log line, anyone who reads logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_redis_names_values_or_logs_and_redis_acl_works() {
    // Redis with ACLs: the default user is off, the server logs in as
    // `app`, with the README's rights.
    let mut redis = RedisServer::start_with(ACL);
    let store = format!("redis://app:s3cret@127.0.0.1:{}", redis.port);
    let logs = tempfile::tempdir().unwrap();
    let (log_a, log_b) = (logs.path().join("a.log"), logs.path().join("b.log"));
    // Debug: request spans and everything else the server can say.
    let env = [("RUST_LOG", "debug")];
    let a = Instance::start_logged(&["--store", &store], &env, Some(&log_a)).await;
    let b = Instance::start_logged(&["--store", &store], &env, Some(&log_b)).await;

    // A session owned by A; its stream (token in the URL) and its events
    // through B, which follows it: every key and channel a session has.
    let mut tab = Tab::open(&a).await;
    let token = tab.token.clone();
    let events: Vec<_> = (0..5).map(|_| tab.event(INCREMENT, ())).collect();
    tokio::time::timeout(Duration::from_secs(10), async {
        while tab.try_send(&b, &events).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("B takes the events");
    tab.connect(&b, None).await;
    tab.settled().await;
    assert_eq!(tab.document().state::<Home>().unwrap().count, 5);

    let keys = redis_cli(&redis, &["--scan"]);
    let channels = redis_cli(&redis, &["PUBSUB", "CHANNELS", "*"]);
    assert!(
        keys.iter().any(|key| key.ends_with(":record")),
        "the session is in Redis: {keys:?}"
    );
    assert!(!channels.is_empty(), "B follows the session");
    for name in keys.iter().chain(&channels) {
        assert!(!name.contains(&token), "{name} names the token");
    }
    for key in &keys {
        let value = match redis_cli(&redis, &["TYPE", key])
            .first()
            .map(String::as_str)
        {
            Some("list") => redis_cli(&redis, &["LRANGE", key, "0", "-1"]),
            _ => redis_cli(&redis, &["GET", key]),
        };
        assert!(!value.concat().contains(&token), "{key} holds the token");
    }

    // A Redis crash makes both instances warn (about the very channels and
    // keys named above); none of it may carry the token.
    redis.restart();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let logged = read(&log_a) + &read(&log_b);
    assert!(logged.contains(" WARN "), "the crash was warned about");
    assert!(
        logged.contains("path=/stateside/stream"),
        "request spans name the path"
    );
    for line in logged.lines() {
        assert!(!line.contains(&token), "a log line has the token: {line}");
    }
}

/// Issue 14, item 5: a wrong Redis password stops the server at once, with
/// an error that says so and does not repeat the password.
#[tokio::test]
async fn a_wrong_redis_password_is_a_clear_startup_error() {
    let redis = RedisServer::start_with(&[
        "--user", "default", "off", "--user", "app", "on", ">s3cret", "~*", "&*", "+@all",
    ]);
    let store = format!("redis://app:not-the-password@127.0.0.1:{}", redis.port);
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--store", &store])
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .output(),
    )
    .await
    .expect("the server gives up")
    .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.to_lowercase().contains("pass"), "{said}");
    assert!(!said.contains("not-the-password"), "{said}");
}

/// Sends `POST open` with `origin`, as a page on that origin would; the
/// status.
async fn open_from(at: &Address, origin: &str) -> u16 {
    reqwest::Client::new()
        .post(at.url(OPEN_PATH))
        .header("origin", origin)
        .form(&[("resume", "")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The WebSocket upgrade's status with `origin`: 101, or the refusal's.
async fn upgrade_from(at: &Address, origin: &str) -> u16 {
    match tokio_tungstenite::connect_async(SocketTab::request(at, Some(origin))).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    }
}

/// Issue 14, item 6: behind a proxy the request's `Host` is the proxy's
/// business (nginx rewrites it by default, and it never says `https`), so
/// the listed public origins decide, scheme and all.
#[tokio::test]
async fn the_public_origins_decide_whatever_the_host_and_the_scheme_counts() {
    let server = Instance::start(&[
        "--public-origin",
        "https://app.example,https://www.app.example:8443/",
    ])
    .await;
    // This server's Host is 127.0.0.1:port, as behind a proxy that
    // rewrites it.
    let own_host = server.base.clone();
    assert_eq!(open_from(&server, "https://app.example").await, 200);
    assert_eq!(
        open_from(&server, "https://www.app.example:8443").await,
        200
    );
    assert_eq!(
        open_from(&server, "http://app.example").await,
        403,
        "scheme"
    );
    assert_eq!(open_from(&server, "https://evil.example").await, 403);
    assert_eq!(
        open_from(&server, &own_host).await,
        403,
        "Host decides nothing"
    );
    assert_eq!(upgrade_from(&server, "https://app.example").await, 101);
    assert_eq!(upgrade_from(&server, "http://app.example").await, 403);
    assert_eq!(upgrade_from(&server, "https://evil.example").await, 403);

    // Reached directly, with no public origin set: `http://` and the Host.
    let direct = Instance::start(&[]).await;
    let https = direct.base.replacen("http://", "https://", 1);
    assert_eq!(open_from(&direct, &direct.base).await, 200);
    assert_eq!(open_from(&direct, &https).await, 403, "scheme");
    assert_eq!(upgrade_from(&direct, &https).await, 403);
    let body = reqwest::Client::new()
        .post(direct.url(OPEN_PATH))
        .header("origin", &https)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("--public-origin"),
        "says how to fix it: {body}"
    );
}

/// Issue 14, item 7: a handler registered with `App::internal` is a step
/// server code chains to; a client that names it gets what a client naming
/// no handler gets, and its session does not move.
#[tokio::test]
async fn an_internal_handler_is_unknown_to_clients_and_the_session_is_untouched() {
    let server = Instance::start(&[]).await;
    let mut tab = SocketTab::open(&server).await;
    let internal = tab.event(HandlerId::<()>::new("random/chain/step"), ());
    let unknown = tab.event(HandlerId::<()>::new("random/chain/no_such_step"), ());
    let increment = tab.event(INCREMENT, ());
    tab.send(&[internal, unknown, increment]).await.unwrap();
    tab.settled().await;
    let refusals: Vec<_> = tab
        .receipts
        .iter()
        .map(|(seq, receipt)| match receipt {
            Receipt::Refused(refusal) => (*seq, refusal.reason),
            other => panic!("not refused: {other:?}"),
        })
        .collect();
    assert_eq!(
        refusals,
        [
            (1, RefusalReason::UnknownHandler),
            (2, RefusalReason::UnknownHandler)
        ]
    );
    // Nothing ran but the increment: no random state came to be.
    let document = tab.document();
    assert_eq!(document.state::<Home>().unwrap().count, 1);
    assert!(document.value().get("random").is_none(), "{document:?}");

    // The demo's download is a relative URL, as the only ones allowed are
    // those and http(s) ones.
    let download = tab.event(HandlerId::<&str>::new("actions/send"), "Download");
    tab.send(&[download]).await.unwrap();
    tab.until(|tab| {
        tab.received.iter().any(|message| {
            matches!(message, ServerMessage::Update(update)
                if update.actions.iter().any(|action| matches!(action,
                    Action::Download { url, .. } if url == "/stateside.txt")))
        })
    })
    .await;
}

/// `GET` a page: its headers and HTML.
async fn page(at: &Address) -> (reqwest::header::HeaderMap, String) {
    let response = reqwest::get(at.url("/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

/// Issue 14, item 8: `curl -sI /` shows the security headers, and the
/// policy's nonce is on every script Leptos wrote into the page.
#[tokio::test]
async fn the_page_has_strict_security_headers() {
    let server = Instance::start(&[]).await;
    let (headers, html) = page(&server).await;
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("referrer-policy"), "same-origin");
    let csp = header("content-security-policy");
    for part in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'"), "no eval: {csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "Leptos's hydration script is inline");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script carries the policy's nonce: {html}"
    );
    let (again, _) = page(&server).await;
    assert_ne!(
        again.get("content-security-policy").unwrap(),
        headers.get("content-security-policy").unwrap(),
        "a fresh nonce per response"
    );
    // The protocol's answers carry them too.
    let refused = reqwest::get(server.url("/stateside/stream?token=x"))
        .await
        .unwrap();
    assert_eq!(refused.headers()["x-content-type-options"], "nosniff");
}

/// The posts page's state, as far as this test reads it: the derive's
/// `Deserialize` skips the fields it does not name.
#[derive(Clone, Default, State)]
#[state(name = "posts")]
struct Posts {
    background: Run,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Run {
    error: Option<String>,
}

/// Issue 14, item 9: an error's chain says what the server knows (here the
/// products API's internal address); the page gets an error id, and the
/// log the chain under the same id.
#[tokio::test]
async fn a_failure_reaches_the_page_as_an_error_id_and_the_log_in_full() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let api = format!("http://127.0.0.1:{port}/internal/products");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("server.log");
    let server = Instance::start_logged(&[], &[("STATESIDE_PRODUCTS_URL", &api)], Some(&log)).await;
    let mut tab = SocketTab::open(&server).await;
    let fetch = tab.event(HandlerId::<()>::new("posts/fetch_background"), ());
    tab.send(&[fetch]).await.unwrap();
    tab.until(|tab| {
        tab.document()
            .state::<Posts>()
            .is_ok_and(|posts| posts.background.error.is_some())
    })
    .await;
    let shown = tab
        .document()
        .state::<Posts>()
        .unwrap()
        .background
        .error
        .unwrap();
    let id = shown.strip_prefix("error ").expect("a generic message");
    assert_eq!(id.len(), 6, "{shown}");
    assert!(!shown.contains("127.0.0.1"), "{shown}");
    let logged = read(&log);
    let line = logged
        .lines()
        .find(|line| line.contains(&format!("error_id={id}")))
        .unwrap_or_else(|| panic!("no log line with {id}: {logged}"));
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
}
