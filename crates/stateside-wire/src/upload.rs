//! The upload endpoint: files go up as one `multipart/form-data` request
//! per batch, streamed into a handler on the server, never through an event
//! (events are JSON, capped at 64 KiB).
//!
//! The request's first part, [`SIZES_FIELD`], lists each file's size in
//! bytes, as JSON (`[5242880,1024]`); a [`FILE_FIELD`] part per file
//! follows, in that order. The sizes come first so that the server refuses
//! a file over its limit before reading it, and hands each file to the
//! handler with its size; a file that then brings more or fewer bytes than
//! it declared is refused as malformed.

/// `POST {UPLOAD_PATH}{handler}` (say `/stateside/upload/files/receive`),
/// with the session's token in [`TOKEN_HEADER`], never in the URL. Answers
/// 204 once the handler has taken every file, or a
/// [`ProtocolError`](crate::ProtocolError) as JSON: 400 malformed, 404
/// unknown session, 413 over a limit
/// ([`TooLarge`](crate::ProtocolError::TooLarge) names it), 503 shutting
/// down.
pub const UPLOAD_PATH: &str = "/stateside/upload/";

/// The request header that names the session an upload belongs to.
pub const TOKEN_HEADER: &str = "x-stateside-token";

/// The first part of an upload: the files' sizes, as a JSON array.
pub const SIZES_FIELD: &str = "sizes";

/// The name of each file's part.
pub const FILE_FIELD: &str = "file";

/// The argument type of an upload handler: `HandlerId<Files>`. No value of
/// it exists, so such a handler cannot be called as an event; the page
/// sends it files with `use_upload` and the server registers it with
/// `App::upload`.
#[derive(Debug)]
pub enum Files {}
