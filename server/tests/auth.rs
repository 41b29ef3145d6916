//! Auth (issue 16, item 3), through the real server, its real socket and
//! its login route: a login handler's code becomes an HttpOnly cookie only
//! for the tab it was minted for; the session learns its user from that
//! cookie on the socket's upgrade; a forged cookie, a forged code and a
//! forged user argument are refused; a logout in one tab ends the login in
//! the others at once, and they are told.

mod support;

use app::account::{
    Account, Credentials, LOG_IN, LOG_OUT, LOGGED_IN, REVEAL, SIGN_UP, logins::LOGIN_COOKIE,
    routes::SESSION_PATH,
};
use serde_json::json;
use stateside_wire::{
    Action, ClientEvent, CodeExchange, NAVIGATE, Navigation, NoticeKind, Receipt, RefusalReason,
    ServerMessage,
};
use support::{Address, Instance, socket::SocketTab};
use tokio_tungstenite::tungstenite::http::HeaderValue;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

fn account(tab: &SocketTab) -> Account {
    tab.document().state().unwrap_or_default()
}

fn credentials(password: &str) -> Credentials {
    Credentials {
        email: EMAIL.to_owned(),
        password: password.to_owned(),
    }
}

/// A tab's socket, with `cookie` as the browser would send it.
async fn connect(tab: &mut SocketTab, at: &Address, cookie: Option<&str>) {
    let mut request = SocketTab::request(at, None);
    if let Some(cookie) = cookie {
        let header = HeaderValue::from_str(&format!("{LOGIN_COOKIE}={cookie}")).unwrap();
        request.headers_mut().insert("cookie", header);
    }
    tab.connect_with(request).await.unwrap();
}

/// Opens `/account`, as the page does when it loads.
async fn open_account(tab: &mut SocketTab) {
    let load = Navigation {
        path: "/account".to_owned(),
        query: String::new(),
        load: true,
    };
    let event = tab.event(NAVIGATE, load);
    tab.send(&[event]).await.unwrap();
    tab.settled().await;
}

async fn call<A: serde::Serialize>(
    tab: &mut SocketTab,
    handler: stateside_wire::HandlerId<A>,
    args: A,
) {
    let event = tab.event(handler, args);
    tab.send(&[event]).await.unwrap();
    tab.settled().await;
}

/// The code of the last `ExchangeCode` the tab was sent, and where to.
fn exchange(tab: &SocketTab) -> Option<(String, String)> {
    tab.received.iter().rev().find_map(|message| match message {
        ServerMessage::Update(update) => update.actions.iter().find_map(|action| match action {
            Action::ExchangeCode { url, code, .. } => Some((url.clone(), code.clone())),
            _ => None,
        }),
        ServerMessage::Snapshot { .. } => None,
    })
}

/// The toasts and refusals the tab was shown, as text.
fn shown(tab: &SocketTab) -> Vec<String> {
    let mut shown = Vec::new();
    for message in &tab.received {
        if let ServerMessage::Update(update) = message {
            shown.extend(update.error.iter().map(|notice| {
                assert_eq!(notice.kind, NoticeKind::Refused, "{notice}");
                notice.to_string()
            }));
            shown.extend(update.actions.iter().filter_map(|action| match action {
                Action::Toast { message, .. } => Some(message.clone()),
                _ => None,
            }));
        }
    }
    shown
}

/// POSTs a code exchange to the login route: its status and cookie.
async fn redeem(at: &Address, token: &str, code: &str) -> (u16, Option<String>) {
    let body = CodeExchange {
        token: token.to_owned(),
        code: code.to_owned(),
    };
    let response = reqwest::Client::new()
        .post(at.url(SESSION_PATH))
        .json(&body)
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status().as_u16(), cookie)
}

/// The login's id in a `Set-Cookie` value.
fn login_of(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.strip_prefix(&format!("{LOGIN_COOKIE}="))
        .unwrap()
        .to_owned()
}

/// Signs up on a fresh tab and redeems the code: the tab and its login.
async fn signed_up(server: &Instance) -> (SocketTab, String) {
    let mut tab = SocketTab::open(&server.address).await;
    open_account(&mut tab).await;
    call(&mut tab, SIGN_UP, credentials(PASSWORD)).await;
    let (_, code) = exchange(&tab).expect("signing up sends a code");
    let (status, cookie) = redeem(&server.address, &tab.token, &code).await;
    assert_eq!(status, 200);
    let login = login_of(&cookie.unwrap());
    connect(&mut tab, &server.address, Some(&login)).await;
    call(&mut tab, LOGGED_IN, true).await;
    assert_eq!(account(&tab).email, EMAIL);
    (tab, login)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_code_becomes_an_http_only_cookie_for_its_own_tab_only() {
    let server = Instance::start(&[]).await;
    let mut tab = SocketTab::open(&server.address).await;
    open_account(&mut tab).await;
    call(&mut tab, SIGN_UP, credentials(PASSWORD)).await;
    let (url, code) = exchange(&tab).expect("signing up sends a code");
    assert_eq!(url, SESSION_PATH);

    // Another tab (or another site) that got hold of the code gets nothing,
    // and the code is spent.
    let other = SocketTab::open(&server.address).await;
    assert_eq!(
        redeem(&server.address, &other.token, &code).await,
        (403, None)
    );
    assert_eq!(
        redeem(&server.address, &tab.token, &code).await,
        (403, None)
    );

    // A wrong password is told apart from nothing, and sends no code.
    call(&mut tab, LOG_IN, credentials("wrong password")).await;
    let wrong = account(&tab);
    assert_eq!(
        wrong.login_errors.get("password"),
        Some("Wrong email or password")
    );
    assert_eq!(
        exchange(&tab).map(|(_, code)| code),
        Some(code.clone()),
        "no new code"
    );

    call(&mut tab, LOG_IN, credentials(PASSWORD)).await;
    let (_, code) = exchange(&tab).expect("logging in sends a code");
    let (status, cookie) = redeem(&server.address, &tab.token, &code).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a Set-Cookie");
    for attribute in ["; HttpOnly", "; SameSite=Lax", "; Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "the server is on plain http: {cookie}"
    );

    // Until the tab reconnects with the cookie, its session has no user.
    call(&mut tab, REVEAL, ()).await;
    assert!(account(&tab).note.is_empty());
    connect(&mut tab, &server.address, Some(&login_of(&cookie))).await;
    call(&mut tab, LOGGED_IN, true).await;
    call(&mut tab, REVEAL, ()).await;
    let account = account(&tab);
    assert_eq!(account.email, EMAIL);
    assert_eq!(
        account.note,
        format!("A note only {EMAIL} can read (opened 1 times).")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_cookie_or_user_argument_is_refused() {
    let server = Instance::start(&[]).await;
    let (_ada, login) = signed_up(&server).await;

    let mut eve = SocketTab::new();
    let forged = format!("{:032x}", u128::from_str_radix(&login, 16).unwrap() ^ 1);
    connect(&mut eve, &server.address, Some(&forged)).await;
    open_account(&mut eve).await;
    assert!(account(&eve).email.is_empty(), "nobody's login");
    call(&mut eve, REVEAL, ()).await;
    // Claiming the login went through does not make it so.
    call(&mut eve, LOGGED_IN, true).await;
    assert!(account(&eve).email.is_empty());
    assert!(account(&eve).note.is_empty());
    assert_eq!(
        shown(&eve),
        [
            "account/reveal refused: you need to log in to do that",
            "account/logged_in refused: you need to log in to do that",
        ]
    );

    // A user named in the arguments is no argument the handler takes.
    let event = ClientEvent {
        seq: eve.next_seq,
        handler: REVEAL.name().to_owned(),
        args: json!({ "user": "u1" }),
    };
    eve.next_seq += 1;
    eve.send(&[event]).await.unwrap();
    eve.until(|tab| !tab.receipts.is_empty()).await;
    assert!(
        matches!(&eve.receipts[0].1, Receipt::Refused(refusal) if refusal.reason == RefusalReason::BadArgs),
        "{:?}",
        eve.receipts
    );
    assert!(account(&eve).note.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_in_one_tab_ends_the_login_in_the_others_at_once() {
    let server = Instance::start(&[]).await;
    let (mut first, login) = signed_up(&server).await;
    call(&mut first, REVEAL, ()).await;
    assert!(!account(&first).note.is_empty());

    // A second tab of the same browser: its own session, the same cookie.
    let mut second = SocketTab::new();
    connect(&mut second, &server.address, Some(&login)).await;
    open_account(&mut second).await;
    assert_eq!(account(&second).email, EMAIL);
    call(&mut second, LOG_OUT, ()).await;
    assert!(account(&second).email.is_empty());

    // The first tab is told, without asking.
    first
        .until(|tab| account(tab).email.is_empty() && account(tab).note.is_empty())
        .await;
    assert!(shown(&first).contains(&"You were logged out in another tab".to_owned()));
    // And its session has lost access, though its socket still sends the
    // old cookie.
    call(&mut first, REVEAL, ()).await;
    assert!(account(&first).note.is_empty());
    assert_eq!(
        shown(&first).last().map(String::as_str),
        Some("account/reveal refused: you need to log in to do that")
    );
}
