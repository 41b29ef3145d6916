//! The upload route, [`UPLOAD_PATH`](stateside_wire::UPLOAD_PATH)`{handler}`:
//! a `multipart/form-data` request streamed into the session's upload
//! handler, which runs as one of its background tasks.
//!
//! The session's token comes in a header, never the URL, and the route is
//! behind the same-origin guard like every protocol path. Nothing is
//! gathered in memory: each file's bytes go from the connection to the
//! handler as they arrive ([`files`]), checked against the sizes the
//! request declared first, which the engine's limits bound. Every refusal
//! is a typed [`ProtocolError`] with its status: 400 malformed, 404
//! unknown session, 413 over a limit, 429 at the session's task limit, 503
//! shutting down.
//!
//! The answer waits for the handler to return. A request the page cancels
//! (or a dropped connection) ends the handler's reads in an error, and if
//! the connection goes first the task is cancelled with it
//! ([`UploadTask`](stateside::UploadTask)'s drop), so a half-written file
//! is removed either way.

mod body;
mod files;

use axum::{
    extract::{Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use stateside::{Engine, UploadEnd, UploadRefused};
use stateside_wire::{ProtocolError, TOKEN_HEADER};

use crate::{session, status::refuse};
use body::SharedBody;
use files::{Failure, Request as Upload};

/// `POST {UPLOAD_PATH}{handler}`: see the module docs.
pub(crate) async fn receive(
    State(engine): State<Engine>,
    Path(handler): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = SharedBody::new(body);
    // Over the declared total, what the multipart framing may add.
    let config = engine.config();
    let drain_limit = config.max_upload_request_bytes + config.max_payload as u64;
    let answer = run(&engine, &handler, &parts.headers, body.clone()).await;
    // The page is still sending what nobody read (a refusal, or a handler
    // that stopped early): answering under it would reset the connection
    // and the page would see a network error instead of the answer.
    body.drain(drain_limit).await;
    answer
}

async fn run(
    engine: &Engine,
    handler: &str,
    headers: &axum::http::HeaderMap,
    body: SharedBody,
) -> Response {
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let session = match session::resume(engine, token).await {
        Ok(session) => session,
        Err(error) => return refuse(&error),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let failure = Failure::default();
    let upload = match Upload::open(content_type, body, engine.config(), failure.clone()).await {
        Ok(upload) => upload,
        Err(error) => return refuse(&error),
    };
    let mut task = match session.upload(handler, upload.files()) {
        Ok(task) => task,
        Err(refused) => return refuse(&refusal(refused)),
    };
    let end = task.ended().await;
    if let Some(error) = failure.first() {
        return refuse(&error);
    }
    match end {
        UploadEnd::Done => StatusCode::NO_CONTENT.into_response(),
        UploadEnd::Failed => refuse(&ProtocolError::Server(format!(
            "{handler} failed; the page has its notice"
        ))),
        UploadEnd::Stopped => refuse(&ProtocolError::Server(format!(
            "{handler} stopped before it took every file"
        ))),
    }
}

fn refusal(refused: UploadRefused) -> ProtocolError {
    match refused {
        UploadRefused::UnknownHandler(_) => ProtocolError::Malformed(refused.to_string()),
        UploadRefused::TooManyTasks { limit } => ProtocolError::TooManyTasks { limit },
        UploadRefused::Elsewhere => ProtocolError::Server(refused.to_string()),
    }
}
