//! Client storage against the real server, on both transports: the
//! session's answer names the demo's theme field (the socket's hello and
//! the fallback's open), a tab's stored value sent as `stateside/stored`
//! reaches its session, and the server's change reaches the tab's document,
//! which the browser writes back.

mod support;

use app::theme::{Prefs, SET_THEME, Theme};
use stateside_wire::{
    OPEN_PATH, OpenRequest, Place, STORED, SessionInfo, StorageBinding, StoredValue,
};
use support::{Instance, Tab, reply, socket::SocketTab};

fn theme_binding() -> StorageBinding {
    StorageBinding {
        state: "prefs".to_owned(),
        field: "theme".to_owned(),
        place: Place::Local,
        key: "theme".to_owned(),
    }
}

fn stored_theme(text: &str) -> Vec<StoredValue> {
    vec![StoredValue {
        place: Place::Local,
        key: "theme".to_owned(),
        text: Some(text.to_owned()),
    }]
}

fn theme(document: &stateside_wire::Document) -> Theme {
    document.state::<Prefs>().unwrap().theme
}

#[tokio::test]
async fn the_socket_names_the_client_fields_and_reads_stored_values_in() {
    let server = Instance::start(&[]).await;
    let mut tab = SocketTab::open(&server).await;
    let info = tab.session.clone().expect("the hello was answered");
    assert!(
        info.storage.contains(&theme_binding()),
        "{:?}",
        info.storage
    );

    let read_in = tab.event(STORED, stored_theme("dark"));
    tab.send(&[read_in]).await.unwrap();
    tab.settled().await;
    assert_eq!(theme(tab.document()), Theme::Dark);

    let change = tab.event(SET_THEME, Theme::Light);
    tab.send(&[change]).await.unwrap();
    tab.settled().await;
    assert_eq!(tab.document().value()["prefs"]["theme"], "light");
}

#[tokio::test]
async fn the_fallback_names_the_client_fields_and_reads_stored_values_in() {
    let server = Instance::start(&[]).await;
    let opened = reqwest::Client::new()
        .post(server.url(OPEN_PATH))
        .form(&OpenRequest::default())
        .send()
        .await
        .unwrap();
    let info: SessionInfo = reply(opened).await.unwrap();
    assert!(
        info.storage.contains(&theme_binding()),
        "{:?}",
        info.storage
    );

    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let read_in = tab.event(STORED, stored_theme("dark"));
    tab.send(&server, &[read_in]).await;
    tab.settled().await;
    assert_eq!(theme(tab.document()), Theme::Dark);
}
