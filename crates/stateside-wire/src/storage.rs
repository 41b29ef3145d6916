//! Client storage: fields a state keeps in the browser, in `localStorage`,
//! `sessionStorage` or a cookie (`#[client(local = "theme")]` on a field of
//! a `#[derive(State)]` struct), so a preference outlives the tab's session.
//!
//! - The server names each such field to a tab when a connection opens
//!   ([`SessionInfo::storage`](crate::SessionInfo::storage)), so the tab
//!   needs no list of its own.
//! - The tab reads them when its page loads, or when the server lost its
//!   session, and sends them as the built-in event [`STORED`]: numbered,
//!   retried and applied once like any event, on either transport. A
//!   `localStorage` key another tab of the browser changes is sent the same
//!   way, so the tabs' sessions follow one another.
//! - When the server changes such a field, the tab writes it back.
//!
//! A stored value is text as a person would write it: a string as itself,
//! anything else as JSON, and `null` as no entry at all. Whatever is in the
//! browser can be written by the user, an extension or a script, so reading
//! it back is checked like any client input ([`from_text`]): a value that
//! does not read, or is too long, is refused with a clear reason, and the
//! field keeps what it had. Never keep a secret or a permission there.

use std::fmt;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::HandlerId;

/// The longest stored text a field takes, in bytes: a cookie's own limit
/// is about 4 KiB, and a preference needs far less.
pub const MAX_STORED_TEXT: usize = 4096;

/// Sent by a tab with what its browser holds for the state's client fields:
/// when its page loads (before its page event, so `on_load` hooks see
/// them), when the server lost its session, and when another tab changed a
/// `localStorage` key.
pub const STORED: HandlerId<Vec<StoredValue>> = HandlerId::new("stateside/stored");

/// Where the browser keeps a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// `localStorage`: every tab of the browser, across restarts; the tabs
    /// follow each other's changes.
    Local,
    /// `sessionStorage`: this tab only, across reloads.
    Session,
    /// A cookie readable by scripts (`Path=/`, `SameSite=Lax`, a year),
    /// also sent with every request to the server. Not followed across
    /// tabs: a tab reads it when its page loads.
    Cookie,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "localStorage",
            Self::Session => "sessionStorage",
            Self::Cookie => "cookie",
        })
    }
}

/// A field kept in the browser, as `#[derive(State)]` declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientField {
    /// The field's name in the state.
    pub field: &'static str,
    /// Where the browser keeps it.
    pub place: Place,
    /// Its key there (the cookie's name).
    pub key: &'static str,
}

/// A field kept in the browser, as the server names it to a tab: the
/// document path `/{state}/{field}` and where to keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageBinding {
    /// The state's name in the document.
    pub state: String,
    /// The field's name in the state.
    pub field: String,
    /// Where the browser keeps it.
    pub place: Place,
    /// Its key there.
    pub key: String,
}

/// One value the browser holds, as a tab sends it in [`STORED`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredValue {
    /// Where it was read.
    pub place: Place,
    /// Its key there.
    pub key: String,
    /// The text stored; `None` when the entry is gone (another tab removed
    /// it): the field goes back to its default.
    pub text: Option<String>,
}

/// Why a stored value was not read into its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredTextError {
    /// Longer than [`MAX_STORED_TEXT`].
    TooLong {
        /// Its length, in bytes.
        bytes: usize,
    },
    /// It does not read as the field's type.
    Unreadable(String),
    /// The state keeps no such field in the browser.
    UnknownField(String),
}

impl fmt::Display for StoredTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { bytes } => {
                write!(f, "is {bytes} bytes, over the {MAX_STORED_TEXT}-byte limit")
            }
            Self::Unreadable(why) => write!(f, "is not a valid value ({why})"),
            Self::UnknownField(field) => write!(f, "names no client field ({field})"),
        }
    }
}

impl std::error::Error for StoredTextError {}

/// Stored values that were not used, and why: what the user is told,
/// whichever side found them (the tab leaves out a text too long to send;
/// the server, one that does not read).
#[derive(Debug, Default)]
pub struct Ignored(Vec<String>);

impl Ignored {
    /// Notes that the value under `key` was not used.
    pub fn add(&mut self, place: Place, key: &str, error: &StoredTextError) {
        self.0.push(format!("{place} \"{key}\" {error}"));
    }

    /// The message for the user, if anything was ignored.
    pub fn notice(&self) -> Option<String> {
        (!self.0.is_empty())
            .then(|| format!("Ignored what this browser stored: {}", self.0.join("; ")))
    }
}

/// The text a field's value is stored as: a string as itself, `null` as no
/// entry (`None`), anything else as its JSON.
pub fn to_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A field's value from the text the browser held, the inverse of
/// [`to_text`]: the text as a string if the type takes one (a `String`, a
/// unit enum variant), else as JSON.
///
/// # Errors
///
/// A text over [`MAX_STORED_TEXT`], or one that reads as neither.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, StoredTextError> {
    check_length(text)?;
    let unreadable = |error: serde_json::Error| StoredTextError::Unreadable(error.to_string());
    let as_string = match serde_json::from_value(Value::String(text.to_owned())) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    // Not JSON either: the reason as a string says most ("unknown variant").
    let json: Value = serde_json::from_str(text).map_err(|_| unreadable(as_string))?;
    serde_json::from_value(json).map_err(unreadable)
}

/// Whether `text` is short enough to be read at all: the tab checks before
/// it sends, so one long value does not sink the others with it.
///
/// # Errors
///
/// [`StoredTextError::TooLong`].
pub fn check_length(text: &str) -> Result<(), StoredTextError> {
    if text.len() > MAX_STORED_TEXT {
        return Err(StoredTextError::TooLong { bytes: text.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Theme {
        Light,
        Dark,
    }

    /// What goes in reads back as it was, and a person can read it.
    #[test]
    fn values_round_trip_through_their_text() {
        fn round_trip<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(
            value: T,
            text: Option<&str>,
        ) {
            let json = serde_json::to_value(&value).unwrap();
            assert_eq!(to_text(&json).as_deref(), text);
            if let Some(text) = text {
                assert_eq!(from_text::<T>(text).unwrap(), value);
            }
        }
        round_trip(Theme::Dark, Some("dark"));
        round_trip("42".to_owned(), Some("42"));
        round_trip("\"quoted\"".to_owned(), Some("\"quoted\""));
        round_trip(42u32, Some("42"));
        round_trip(true, Some("true"));
        round_trip(Some(7u8), Some("7"));
        round_trip(None::<u8>, None);
        round_trip(vec![1, 2], Some("[1,2]"));
        assert_eq!(to_text(&json!({"a": 1})).as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn garbage_and_long_texts_are_refused_with_the_reason() {
        let error = from_text::<Theme>("purple").unwrap_err();
        assert!(
            matches!(&error, StoredTextError::Unreadable(why) if why.contains("purple")),
            "{error}"
        );
        assert!(error.to_string().starts_with("is not a valid value"));
        assert!(from_text::<u32>("-1").is_err());
        let long = "x".repeat(MAX_STORED_TEXT + 1);
        assert_eq!(
            from_text::<String>(&long),
            Err(StoredTextError::TooLong {
                bytes: MAX_STORED_TEXT + 1
            })
        );
        assert!(from_text::<String>(&long[1..]).is_ok());

        let mut ignored = Ignored::default();
        assert_eq!(ignored.notice(), None);
        ignored.add(Place::Local, "theme", &error);
        assert_eq!(
            ignored.notice().unwrap(),
            format!("Ignored what this browser stored: localStorage \"theme\" {error}")
        );
    }

    #[test]
    fn the_event_reads_as_the_wire_names_it() {
        let event = STORED
            .call(&vec![StoredValue {
                place: Place::Local,
                key: "theme".to_owned(),
                text: Some("dark".to_owned()),
            }])
            .unwrap();
        assert_eq!(event.handler, "stateside/stored");
        assert_eq!(
            event.args,
            json!([{ "place": "local", "key": "theme", "text": "dark" }])
        );
    }
}
