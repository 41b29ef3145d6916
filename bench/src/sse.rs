//! A small server-sent-events reader: enough of the format for axum's
//! output (`data:`, `id:`, `retry:` lines and `:` keep-alive comments).

use anyhow::Result;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

pub struct Events {
    body: Incoming,
    buffer: BytesMut,
}

impl Events {
    pub fn new(body: Incoming) -> Self {
        Self {
            body,
            buffer: BytesMut::new(),
        }
    }

    /// The `data` of the next event; `None` when the stream ends.
    pub async fn next(&mut self) -> Result<Option<Bytes>> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let frame = self.buffer.split_to(end + 2).freeze();
                if let Some(data) = data_of(&frame) {
                    return Ok(Some(data));
                }
                continue;
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// The joined `data:` lines of one frame, or `None` for a frame without any.
fn data_of(frame: &Bytes) -> Option<Bytes> {
    let mut lines = frame
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"data:"))
        .map(|rest| rest.strip_prefix(b" ").unwrap_or(rest));
    let first = lines.next()?;
    let mut data = BytesMut::from(first);
    for line in lines {
        data.extend_from_slice(b"\n");
        data.extend_from_slice(line);
    }
    Some(data.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_join_and_comments_are_skipped() {
        assert_eq!(data_of(&Bytes::from_static(b":\n\n")), None);
        let frame = Bytes::from_static(b"data: {\"a\":1}\nid: 3\nretry: 1000\n\n");
        assert_eq!(data_of(&frame).unwrap(), Bytes::from_static(b"{\"a\":1}"));
        let frame = Bytes::from_static(b"data:x\ndata: y\n\n");
        assert_eq!(data_of(&frame).unwrap(), Bytes::from_static(b"x\ny"));
    }
}
