//! Page events: which page each tab shows, and the app's hooks for it
//! (Reflex's `on_load`). The built-in handlers that move a tab's page and
//! run the hooks are in `navigation`.
//!
//! The tab sends [`NAVIGATE`] when a page loads or reloads, when it moves
//! to another page on the client, and when it finds that its session was
//! lost (a restart on the memory store): a plain reconnect sends nothing,
//! since the session still holds the page. The engine keeps where the tab
//! is in [`Page`], a state that stores keep and browsers never see, so a
//! handler reads the path, its params and the query with
//! [`Cx::page`](crate::Cx::page), and a session restored after a restart
//! still knows its page.
//!
//! Hooks run as events chained by the navigation, so they queue behind what
//! the tab sent before it and ahead of what it sends after: the `on_unload`
//! hooks of the page left, then the move itself, then the `on_load` hooks
//! of the page arrived at.

use std::{collections::BTreeMap, sync::Arc};

use stateside_wire::{HandlerId, List, State};

use crate::mutex::lock;

/// Where the session's tab is, as it last said. The path is what the tab
/// reports, as in any single-page app: a page to show, never a proof of
/// what the user may do (check that in the handler).
#[derive(Clone, Debug, Default, PartialEq, State)]
#[state(name = "stateside_page")]
pub struct Page {
    #[backend]
    pub(crate) path: String,
    #[backend]
    pub(crate) params: BTreeMap<String, String>,
    #[backend]
    pub(crate) query: List<(String, String)>,
}

impl Page {
    /// The path, `/notes/42`; empty until the tab first says.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A parameter of the route pattern the path matched: `id` for
    /// `/notes/:id`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The first value of a query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum When {
    Load,
    Unload,
}

struct Hook {
    pattern: Pattern,
    when: When,
    handler: HandlerId<()>,
}

/// The app's page hooks, shared by the app and its two built-in handlers.
#[derive(Clone, Default)]
pub(crate) struct PageHooks(Arc<std::sync::Mutex<Vec<Hook>>>);

impl PageHooks {
    pub(crate) fn on_load(&self, pattern: &str, handler: HandlerId<()>) {
        self.add(pattern, When::Load, handler);
    }

    pub(crate) fn on_unload(&self, pattern: &str, handler: HandlerId<()>) {
        self.add(pattern, When::Unload, handler);
    }

    fn add(&self, pattern: &str, when: When, handler: HandlerId<()>) {
        let pattern = Pattern::parse(pattern);
        lock(&self.0).push(Hook {
            pattern,
            when,
            handler,
        });
    }

    /// The handlers to run for `path`, and the params of the first hook's
    /// pattern that matches it.
    pub(crate) fn matching(
        &self,
        path: &str,
        when: When,
    ) -> (Vec<HandlerId<()>>, BTreeMap<String, String>) {
        let hooks = lock(&self.0);
        let mut params = None;
        let mut handlers = Vec::new();
        for hook in hooks.iter() {
            if let Some(found) = hook.pattern.matches(path) {
                params.get_or_insert(found);
                if hook.when == when {
                    handlers.push(hook.handler);
                }
            }
        }
        (handlers, params.unwrap_or_default())
    }
}

/// A route pattern as Leptos writes one: `/notes/:id`, `/files/*rest`.
struct Pattern(Vec<Segment>);

enum Segment {
    Literal(String),
    Param(String),
    Rest(String),
}

impl Pattern {
    fn parse(pattern: &str) -> Self {
        Self(
            segments(pattern)
                .map(|segment| match segment.as_bytes().first() {
                    Some(b':') => Segment::Param(segment[1..].to_owned()),
                    Some(b'*') => Segment::Rest(segment[1..].to_owned()),
                    _ => Segment::Literal(segment.to_owned()),
                })
                .collect(),
        )
    }

    /// The params, percent-decoded, if `path` matches.
    fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let mut params = BTreeMap::new();
        let mut parts = segments(path);
        for segment in &self.0 {
            match segment {
                Segment::Literal(literal) => (parts.next()? == literal).then_some(())?,
                Segment::Param(name) => {
                    params.insert(name.clone(), decode(parts.next()?));
                }
                Segment::Rest(name) => {
                    let rest: Vec<_> = parts.by_ref().map(decode).collect();
                    params.insert(name.clone(), rest.join("/"));
                }
            }
        }
        parts.next().is_none().then_some(params)
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_leptos_routes_do() {
        let notes = Pattern::parse("/notes/:id");
        let found = notes.matches("/notes/42").unwrap();
        assert_eq!(found.get("id").map(String::as_str), Some("42"));
        assert!(notes.matches("/notes").is_none());
        assert!(notes.matches("/notes/42/edit").is_none());
        assert_eq!(
            notes.matches("/notes/a%20b").unwrap()["id"],
            "a b",
            "params are decoded"
        );
        let files = Pattern::parse("/files/*path");
        assert_eq!(files.matches("/files/a/b.txt").unwrap()["path"], "a/b.txt");
        assert!(Pattern::parse("/").matches("/").is_some());
        assert!(Pattern::parse("/").matches("/x").is_none());
    }
}
