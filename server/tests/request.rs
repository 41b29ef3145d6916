//! The request context (issue 16, item 2), through a real socket and the
//! real fallback: a handler sees the address the server saw and the headers
//! the browser sent, not what a tab claims. The actions page's `on_load`
//! hook reads it into the page's state.

mod support;

use app::actions::ActionsDemo;
use stateside_wire::{NAVIGATE, Navigation, State};
use support::{Instance, Tab, socket::SocketTab};
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn load_actions() -> Navigation {
    Navigation {
        path: "/actions".to_owned(),
        query: String::new(),
        load: true,
    }
}

fn demo(document: &stateside_wire::Document) -> ActionsDemo {
    document.state().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_sees_the_address_the_server_saw_not_a_forged_one() {
    let server = Instance::start(&[]).await;
    let mut request = SocketTab::request(&server.address, None);
    let headers = request.headers_mut();
    // The peer is not a trusted proxy: this header must be ignored.
    headers.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
    headers.insert(
        "accept-language",
        HeaderValue::from_static("fr-CH, fr;q=0.9"),
    );
    let mut tab = SocketTab::new();
    tab.connect_with(request).await.unwrap();
    let event = tab.event(NAVIGATE, load_actions());
    tab.send(&[event]).await.unwrap();
    tab.until(|tab| !demo(tab.document()).address.is_empty())
        .await;
    let seen = demo(tab.document());
    assert_eq!(seen.address, "127.0.0.1");
    assert_eq!(seen.language, "fr-CH");
    assert!(
        !serde_json::to_string(tab.document().value())
            .unwrap()
            .contains("6.6.6.6")
    );
    assert_eq!(ActionsDemo::NAME, "actions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_captures_each_post_the_same_way() {
    let server = Instance::start(&[]).await;
    let mut tab = Tab::open(&server.address).await;
    tab.connect(&server.address, None).await;
    let event = tab.event(NAVIGATE, load_actions());
    tab.send(&server.address, &[event]).await;
    tab.until(|tab| !demo(tab.document()).address.is_empty())
        .await;
    let seen = demo(tab.document());
    assert_eq!(seen.address, "127.0.0.1");
    assert_eq!(seen.language, "unknown", "reqwest sends no Accept-Language");
}
