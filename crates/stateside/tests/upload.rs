//! Upload handlers (issue 16, item 6) in the engine alone: a request's
//! files reach the handler in order as streams, it runs as a task of the
//! session and records what it saved under the lock; a file cut off or a
//! request gone leaves no partial file, and the sender's faults raise no
//! notice in the session.

mod support;

use std::{path::Path, sync::Arc, time::Duration};

use bytes::Bytes;
use futures::{StreamExt, stream};
use serde_json::Value;
use stateside::{
    Error, Files, HandlerId, Task, Upload, UploadEnd, UploadError, UploadRefused, Uploads,
    transport::ClientEvent,
};
use support::*;

const RECEIVE: HandlerId<Files> = HandlerId::new("receive");

/// Saves each file into `dir` and logs `name:size`.
async fn receive(
    dir: Arc<Path>,
    mut task: Task<Counter>,
    mut files: Uploads,
) -> anyhow::Result<()> {
    while let Some(file) = files.next().await? {
        let name = file.name().to_owned();
        let size = file.save_to(dir.join(&name)).await?;
        task.lock().await.log.push(format!("{name}:{size}"));
    }
    Ok(())
}

fn engine_saving_to(dir: &Path) -> stateside::Engine {
    let dir: Arc<Path> = Arc::from(dir);
    let app = app().upload(RECEIVE, move |task, files| {
        receive(Arc::clone(&dir), task, files)
    });
    stateside::Engine::new(app, config())
}

/// A file whose bytes are `chunks`, then whatever `tail` yields.
fn file(
    name: &str,
    size: u64,
    chunks: &[&'static [u8]],
    tail: impl futures::Stream<Item = Result<Bytes, UploadError>> + Send + 'static,
) -> Upload {
    let chunks: Vec<Result<Bytes, UploadError>> = chunks
        .iter()
        .map(|chunk| Ok(Bytes::from_static(chunk)))
        .collect();
    Upload::new(name, "text/plain", size, stream::iter(chunks).chain(tail)).unwrap()
}

fn uploads(files: Vec<Upload>) -> Uploads {
    Uploads::new(stream::iter(files.into_iter().map(Ok)))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn each_file_streams_to_the_handler_which_records_it_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_saving_to(dir.path());
    let mut tab = Client::connect(engine.open().unwrap());
    let files = vec![
        file("a.txt", 11, &[b"hello ", b"world"], stream::empty()),
        file("b.txt", 0, &[], stream::empty()),
    ];
    let mut task = tab.session.upload(RECEIVE.name(), uploads(files)).unwrap();
    assert_eq!(
        tab.session.tasks()[0].handler,
        "receive",
        "it runs as a task"
    );
    assert_eq!(task.ended().await, UploadEnd::Done);
    tab.until(|counter: &Counter| counter.log == ["a.txt:11", "b.txt:0"])
        .await;
    assert_eq!(files_in(dir.path()), ["a.txt", "b.txt"]);
    assert_eq!(
        std::fs::read(dir.path().join("a.txt")).unwrap(),
        b"hello world"
    );
}

#[tokio::test]
async fn a_file_cut_off_leaves_no_partial_file_and_no_notice() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_saving_to(dir.path());
    let mut tab = Client::connect(engine.open().unwrap());
    let cut = stream::iter([Err(UploadError::Cut)]);
    let files = vec![file("cut.txt", 100, &[b"the first part"], cut)];
    let mut task = tab.session.upload(RECEIVE.name(), uploads(files)).unwrap();
    assert_eq!(task.ended().await, UploadEnd::Failed);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
    // The page hears of it from the upload's answer, not as a notice.
    tab.send(INCREMENT, ());
    tab.settled::<Counter>().await;
    assert_eq!(tab.notices(), []);
}

#[tokio::test]
async fn a_request_that_goes_away_cancels_its_task_and_removes_the_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_saving_to(dir.path());
    let tab = Client::connect(engine.open().unwrap());
    // The rest of the file never comes, as with a connection that stalls.
    let files = vec![file("stalled.bin", 100, &[b"part"], stream::pending())];
    let task = tab.session.upload(RECEIVE.name(), uploads(files)).unwrap();
    until(|| files_in(dir.path()).len() == 1).await;
    assert!(
        files_in(dir.path())[0].starts_with(".upload-"),
        "a temporary name"
    );
    drop(task);
    until(|| files_in(dir.path()).is_empty() && tab.session.tasks().is_empty()).await;
}

#[tokio::test]
async fn what_is_not_an_upload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_saving_to(dir.path());
    let session = engine.open().unwrap();
    for name in ["", ".", "..", "../up.txt", "a/b.txt", "a\\b.txt", "a\nb"] {
        let upload = Upload::new(name, "", 0, stream::empty());
        assert!(matches!(upload, Err(UploadError::Malformed(_))), "{name:?}");
    }
    assert!(matches!(
        session.upload("record", uploads(Vec::new())),
        Err(UploadRefused::UnknownHandler(_))
    ));
    // An upload handler is not an event a tab can send.
    let event = ClientEvent {
        seq: 1,
        handler: RECEIVE.name().to_owned(),
        args: Value::Null,
    };
    assert!(matches!(session.submit(event), Err(Error::BadArgs { .. })));
}

/// Waits until `done` holds, for at most 10 s.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never got there");
}
