//! What an upload looks like while it goes: each file's share of the
//! bytes sent, and the upload's status.

#[cfg(any(feature = "hydrate", test))]
use stateside_wire::ProtocolError;

/// One file of an upload, and how much of it has gone up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProgress {
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// How many of its bytes have gone up.
    pub sent: u64,
}

impl FileProgress {
    /// How much has gone up, from 0 to 100.
    pub fn percent(&self) -> u64 {
        if self.size == 0 {
            return if self.sent == 0 { 0 } else { 100 };
        }
        self.sent.min(self.size) * 100 / self.size
    }
}

/// How an upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadStatus {
    /// Nothing sent yet.
    Idle,
    /// On its way, or being taken by the handler.
    Sending,
    /// The handler took every file.
    Done,
    /// It failed, and this says why.
    Failed(String),
    /// The page cancelled it.
    Cancelled,
}

impl UploadStatus {
    /// A line for the page.
    pub fn message(&self) -> String {
        match self {
            Self::Idle => String::new(),
            Self::Sending => "Uploading…".to_owned(),
            Self::Done => "Uploaded.".to_owned(),
            Self::Failed(why) => why.clone(),
            Self::Cancelled => "Upload cancelled.".to_owned(),
        }
    }
}

/// Spreads the request's `loaded` bytes of `total` over the files, in
/// order: the multipart framing (a few hundred bytes) counts as sent
/// first, so each file reaches 100 only when its last byte has gone.
#[cfg(any(feature = "hydrate", test))]
pub(crate) fn spread(files: &mut [FileProgress], loaded: u64, total: u64) {
    let of_files: u64 = files.iter().map(|file| file.size).sum();
    let mut left = loaded.saturating_sub(total.saturating_sub(of_files));
    for file in files.iter_mut() {
        file.sent = left.min(file.size).max(file.sent);
        left = left.saturating_sub(file.size);
    }
    if loaded >= total {
        complete(files);
    }
}

/// Every byte has gone up. An empty file counts one byte sent: done.
#[cfg(any(feature = "hydrate", test))]
pub(crate) fn complete(files: &mut [FileProgress]) {
    for file in files {
        file.sent = file.size.max(1);
    }
}

/// What to tell the user about a refused upload of `files`.
#[cfg(any(feature = "hydrate", test))]
pub(crate) fn explain(error: &ProtocolError, files: &[FileProgress]) -> String {
    match error {
        ProtocolError::TooLarge { limit } => {
            let limit = *limit as u64;
            match files.iter().find(|file| file.size > limit) {
                Some(file) => format!(
                    "{} is {}, over the server's limit of {} per file.",
                    file.name,
                    size(file.size),
                    size(limit)
                ),
                None => format!(
                    "These files come to {}, over the server's limit of {} per upload.",
                    size(files.iter().map(|file| file.size).sum()),
                    size(limit)
                ),
            }
        }
        ProtocolError::UnknownSession | ProtocolError::MalformedToken => {
            "The server lost this tab's session; upload again once the page has reconnected."
                .to_owned()
        }
        other => format!("The upload failed: {other}."),
    }
}

/// A size for people: `5.0 MiB`, `812 KiB`, `90 bytes`.
#[cfg(any(feature = "hydrate", test))]
fn size(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    match bytes {
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> Vec<FileProgress> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| FileProgress {
                name: format!("f{i}"),
                size,
                sent: 0,
            })
            .collect()
    }

    #[test]
    fn the_bytes_sent_fill_the_files_in_order() {
        // 100 bytes of framing around files of 1000 and 500 bytes.
        let mut sending = files(&[1000, 500]);
        spread(&mut sending, 600, 1600);
        assert_eq!((sending[0].percent(), sending[1].percent()), (50, 0));
        spread(&mut sending, 1350, 1600);
        assert_eq!((sending[0].percent(), sending[1].percent()), (100, 50));
        spread(&mut sending, 1600, 1600);
        assert_eq!((sending[0].percent(), sending[1].percent()), (100, 100));
    }

    #[test]
    fn an_empty_file_is_done_when_the_request_is() {
        let mut sending = files(&[0]);
        spread(&mut sending, 10, 200);
        assert_eq!(sending[0].percent(), 0);
        spread(&mut sending, 200, 200);
        assert_eq!(sending[0].percent(), 100);
    }

    #[test]
    fn a_refusal_names_the_file_over_the_limit() {
        let sending = files(&[10 << 20, 17 << 20]);
        let why = explain(&ProtocolError::TooLarge { limit: 16 << 20 }, &sending);
        assert_eq!(
            why,
            "f1 is 17.0 MiB, over the server's limit of 16.0 MiB per file."
        );
        let why = explain(&ProtocolError::TooLarge { limit: 20 << 20 }, &sending);
        assert!(why.starts_with("These files come to 27.0 MiB"), "{why}");
    }
}
