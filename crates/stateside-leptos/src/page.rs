//! Page events in the browser: tells the session which page the tab shows,
//! so the app's `on_load` and `on_unload` hooks run on the server.

use leptos::prelude::*;
use std::rc::Rc;

use leptos_router::{
    NavigateOptions,
    hooks::{use_location, use_navigate},
};
use stateside_wire::{NAVIGATE, Navigation};

use crate::context::{InAppNavigate, use_stateside};

/// Sends [`NAVIGATE`] when the page loads, on every navigation within the
/// app, and again (as a load) when the server lost the tab's session, so
/// the new session runs the page's `on_load` hooks too. A plain reconnect
/// sends nothing: the session still holds what they loaded.
///
/// It also lets a handler's `Redirect` to a path of the app go through the
/// router, without reloading the page. Call it once, inside the app's
/// `<Router>`.
pub fn use_page_events() {
    let stateside = use_stateside();
    let location = use_location();
    let navigate = use_navigate();
    let in_app: InAppNavigate = Rc::new(move |to: &str| navigate(to, NavigateOptions::default()));
    stateside.router.set_value(Some(in_app));
    let here = move |load: bool| Navigation {
        path: location.pathname.get_untracked(),
        query: location
            .search
            .get_untracked()
            .trim_start_matches('?')
            .to_owned(),
        load,
    };
    let loaded = StoredValue::new(false);
    Effect::new(move |_| {
        // Tracked: runs again on each navigation.
        location.pathname.track();
        location.search.track();
        let first = !loaded.get_value();
        loaded.set_value(true);
        stateside.call(NAVIGATE, here(first));
    });
    Effect::new(move |_| {
        if stateside.session_renewed().get() && loaded.get_value() {
            stateside.call(NAVIGATE, here(true));
        }
    });
}
