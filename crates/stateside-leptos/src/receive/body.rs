//! A request body that two owners share: the multipart reader, and the
//! route, which reads off what the reader left once the handler is done.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum::body::{Body, BodyDataStream, Bytes};
use futures::{Stream, StreamExt};

#[derive(Clone)]
pub(super) struct SharedBody(Arc<Mutex<BodyDataStream>>);

impl SharedBody {
    pub(super) fn new(body: Body) -> Self {
        Self(Arc::new(Mutex::new(body.into_data_stream())))
    }

    /// Reads and drops the rest of the body, up to `limit` bytes; past
    /// that the connection is closed rather than read for as long as the
    /// page cares to send.
    pub(super) async fn drain(mut self, limit: u64) {
        let mut drained = 0u64;
        while let Some(Ok(chunk)) = self.next().await {
            drained += chunk.len() as u64;
            if drained > limit {
                return;
            }
        }
    }
}

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Never held across an await: each poll takes it and lets it go.
        let mut body = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        body.poll_next_unpin(cx)
    }
}
