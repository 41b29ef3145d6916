//! The built-in handlers behind page events (see `page`): the tab's
//! [`NAVIGATE`] runs the `on_unload` hooks of the page it leaves, then an
//! internal arrival moves the [`Page`] and runs the `on_load` hooks, each
//! as an event chained ahead of the events already waiting: a click sent
//! while a page loads finds what its `on_load` hook loaded.

use serde::{Deserialize, Serialize};
use stateside_wire::{HandlerId, NAVIGATE, Navigation};

use crate::{
    app::App,
    cx::Cx,
    page::{Page, PageHooks, When},
};

/// The longest path or query a tab may report, in bytes.
const MAX_LOCATION: usize = 2048;

/// Moves the page after the unload hooks ran: internal.
const ARRIVE: HandlerId<Arrival> = HandlerId::new("stateside/arrive");

#[derive(Serialize, Deserialize)]
struct Arrival {
    navigation: Navigation,
    /// Run the load hooks: a new path, or a page load.
    load: bool,
}

/// Registers the two built-in handlers on `app`.
pub(crate) fn register(app: App, hooks: &PageHooks) -> App {
    let (leaving, arriving) = (hooks.clone(), hooks.clone());
    let checked = HandlerId::<Checked>::new(NAVIGATE.name());
    app.on(checked, move |cx: Cx<Page>, to: Checked| {
        let hooks = leaving.clone();
        async move { navigate(cx, to, &hooks) }
    })
    .internal(ARRIVE, move |cx: Cx<Page>, arrival: Arrival| {
        let hooks = arriving.clone();
        async move { arrive(cx, arrival, &hooks) }
    })
}

/// A [`Navigation`] checked as it is decoded, so a bad one is refused to
/// the tab that sent it, with the reason, before it takes a place in the
/// queue.
#[derive(Deserialize)]
#[serde(try_from = "Navigation")]
struct Checked(Navigation);

impl TryFrom<Navigation> for Checked {
    type Error = String;

    fn try_from(to: Navigation) -> Result<Self, String> {
        if !to.path.starts_with('/')
            || to.path.len() > MAX_LOCATION
            || to.query.len() > MAX_LOCATION
        {
            return Err(format!(
                "a page's path starts with / and, like its query, is at most {MAX_LOCATION} bytes"
            ));
        }
        Ok(Self(to))
    }
}

fn navigate(mut cx: Cx<Page>, Checked(to): Checked, hooks: &PageHooks) -> anyhow::Result<()> {
    let moved = to.path != cx.path;
    if moved && !cx.path.is_empty() {
        for handler in hooks.matching(&cx.path, When::Unload).0 {
            cx.emit_next(handler, &())?;
        }
    }
    let load = moved || to.load;
    cx.emit_next(
        ARRIVE,
        &Arrival {
            navigation: to,
            load,
        },
    )?;
    Ok(())
}

fn arrive(mut cx: Cx<Page>, arrival: Arrival, hooks: &PageHooks) -> anyhow::Result<()> {
    let Navigation { path, query, .. } = arrival.navigation;
    let (handlers, params) = hooks.matching(&path, When::Load);
    cx.path = path;
    cx.params = params;
    cx.query = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if arrival.load {
        for handler in handlers {
            cx.emit_next(handler, &())?;
        }
    }
    Ok(())
}
