//! Uploads over real sockets: files stream into the demo's upload handler
//! (`app::files`), which saves them and lists them in the session's state;
//! a refusal is a typed answer with its status and leaves nothing behind;
//! a request the client abandons halfway leaves no file.

mod support;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use app::files::{RECEIVE, Received, ReceivedFile};
use stateside_wire::{FILE_FIELD, ProtocolError, SIZES_FIELD, TOKEN_HEADER, UPLOAD_PATH};
use support::{Instance, Tab};
use tokio::io::AsyncWriteExt;

const BOUNDARY: &str = "stateside-test-boundary";

/// A server whose uploads go to a directory of the test's own.
async fn server(args: &[&str]) -> (Instance, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("STATESIDE_UPLOAD_DIR", dir.path().to_str().unwrap())];
    (Instance::start_logged(args, &env, None).await, dir)
}

/// The multipart body of an upload: `sizes` as declared, then each file.
fn body(sizes: &[u64], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    let sizes = serde_json::to_string(sizes).unwrap();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{SIZES_FIELD}\"\r\n\r\n{sizes}\r\n"
        )
        .as_bytes(),
    );
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{FILE_FIELD}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload(tab: &Tab, at: &Instance, token: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
    tab.http
        .post(at.url(&format!("{UPLOAD_PATH}{}", RECEIVE.name())))
        .header(TOKEN_HEADER, token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
}

async fn refusal(response: reqwest::Response) -> (u16, ProtocolError) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a typed refusal"))
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Waits until `done` holds for the files under `dir`, for at most 20 s.
async fn until_files(dir: &Path, done: impl Fn(&[PathBuf]) -> bool) {
    for _ in 0..400 {
        if done(&files_under(dir)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the upload directory never got there: {:?}",
        files_under(dir)
    );
}

fn received(tab: &Tab) -> Vec<ReceivedFile> {
    let state = tab.document().state::<Received>().unwrap_or_default();
    state.files.iter().cloned().collect()
}

/// Bytes that differ from offset to offset, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn several_files_stream_to_the_handler_which_lists_them_in_the_state() {
    let (server, dir) = server(&[]).await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let (big, small) = (pattern(3 << 20), b"hello".to_vec());
    let body = body(
        &[big.len() as u64, 5],
        &[("big.bin", &big), ("note.txt", &small)],
    );
    let response = upload(&tab, &server, &tab.token, body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    tab.until(|tab| received(tab).len() == 2).await;
    assert_eq!(
        received(&tab),
        [
            ReceivedFile {
                name: "big.bin".to_owned(),
                size: 3 << 20
            },
            ReceivedFile {
                name: "note.txt".to_owned(),
                size: 5
            },
        ]
    );
    let mut saved = files_under(dir.path());
    saved.sort();
    assert_eq!(saved.len(), 2, "no partial file is left: {saved:?}");
    assert_eq!(std::fs::read(&saved[0]).unwrap(), big);
    assert_eq!(std::fs::read(&saved[1]).unwrap(), small);
}

#[tokio::test]
async fn past_a_limit_the_answer_is_413_and_nothing_is_saved() {
    let (server, dir) =
        server(&["--upload-max-file", "1000", "--upload-max-request", "1500"]).await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let send = |sizes: &[u64], files: &[(&str, &[u8])]| {
        upload(&tab, &server, &tab.token, body(sizes, files)).send()
    };

    let one_too_many = pattern(1001);
    let response = send(&[1001], &[("big.bin", &one_too_many)]).await.unwrap();
    assert_eq!(
        refusal(response).await,
        (413, ProtocolError::TooLarge { limit: 1000 })
    );
    let two = pattern(800);
    let response = send(&[800, 800], &[("a.bin", &two), ("b.bin", &two)])
        .await
        .unwrap();
    assert_eq!(
        refusal(response).await,
        (413, ProtocolError::TooLarge { limit: 1500 })
    );
    // A file that brings more than it declared is cut off at its size.
    let response = send(&[10], &[("liar.bin", &two)]).await.unwrap();
    let (status, error) = refusal(response).await;
    assert_eq!(status, 400);
    assert!(
        matches!(&error, ProtocolError::Malformed(why) if why.contains("larger than its declared 10 bytes")),
        "{error:?}"
    );
    // A name that is a path is refused, not written outside the directory.
    let response = send(&[3], &[("../up.bin", b"abc")]).await.unwrap();
    let (status, error) = refusal(response).await;
    assert_eq!(status, 400, "{error:?}");

    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
    // The session goes on: a file within the limits is taken.
    let response = send(&[3], &[("ok.bin", b"abc")]).await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    tab.until(|tab| !received(tab).is_empty()).await;
    assert_eq!(received(&tab)[0].name, "ok.bin");
}

#[tokio::test]
async fn an_upload_needs_a_live_session_a_known_handler_and_its_own_origin() {
    let (server, _dir) = server(&[]).await;
    let tab = Tab::open(&server).await;
    let file = || body(&[3], &[("a.txt", b"abc")]);

    let response = upload(&tab, &server, &"0".repeat(32), file())
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(response).await,
        (404, ProtocolError::UnknownSession)
    );
    let response = upload(&tab, &server, "", file()).send().await.unwrap();
    assert_eq!(
        refusal(response).await,
        (400, ProtocolError::MalformedToken)
    );
    let response = upload(&tab, &server, &tab.token, file())
        .header("origin", "http://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let response = tab
        .http
        .post(server.url(&format!("{UPLOAD_PATH}files/no_such_handler")))
        .header(TOKEN_HEADER, &tab.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(file())
        .send()
        .await
        .unwrap();
    let (status, error) = refusal(response).await;
    assert_eq!(status, 400);
    assert!(
        matches!(&error, ProtocolError::Malformed(why) if why.contains("files/no_such_handler")),
        "{error:?}"
    );
    let response = upload(&tab, &server, &tab.token, b"not multipart".to_vec())
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(response).await.0, 400);
}

#[tokio::test]
async fn an_upload_cut_off_halfway_leaves_no_file() {
    let (server, dir) = server(&[]).await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let whole = pattern(4 << 20);
    let request = body(&[whole.len() as u64], &[("cut.bin", &whole)]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {UPLOAD_PATH}{} HTTP/1.1\r\nHost: {address}\r\n{TOKEN_HEADER}: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        RECEIVE.name(),
        tab.token,
        request.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket
        .write_all(&request[..request.len() / 2])
        .await
        .unwrap();
    // The handler is writing the file: its partial copy is on disk.
    until_files(dir.path(), |files| {
        files
            .iter()
            .any(|file| std::fs::metadata(file).is_ok_and(|meta| meta.len() > 0))
    })
    .await;
    drop(socket);
    until_files(dir.path(), <[PathBuf]>::is_empty).await;
    // The session is intact, and lists only what it got whole.
    let again = body(&[3], &[("after.bin", b"xyz")]);
    let response = upload(&tab, &server, &tab.token, again)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    tab.until(|tab| !received(tab).is_empty()).await;
    let names: Vec<String> = received(&tab).into_iter().map(|file| file.name).collect();
    assert_eq!(names, ["after.bin"]);
    assert_eq!(files_under(dir.path()).len(), 1);
}
