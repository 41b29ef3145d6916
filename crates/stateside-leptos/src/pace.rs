//! Paced calls: a search box or a slider sends what the user settled on,
//! not every keystroke (Reflex's `debounce` and `throttle` event actions).
//!
//! Each hook gives one call site its own timer, so two search boxes on a
//! page do not hold each other back. What is sent goes through
//! [`Stateside::call`] like any call: numbered, retried, applied once.
//! Debounced sends the last arguments once the calls pause; throttled sends
//! the first at once and then at most one per interval, always ending with
//! the last arguments, so a slider's final position is never lost.

use std::time::Duration;

use leptos::prelude::*;
use serde::Serialize;
use stateside_wire::HandlerId;

use crate::context::{Stateside, use_stateside};

/// A caller of `handler` that waits until it has not been called for
/// `quiet`, then sends the last arguments it was given.
///
/// ```ignore
/// let search = use_debounced(SEARCH, Duration::from_millis(300));
/// view! { <input type="search" on:input=move |ev| search(event_target_value(&ev)) /> }
/// ```
pub fn use_debounced<A>(handler: HandlerId<A>, quiet: Duration) -> impl Fn(A) + Copy + 'static
where
    A: Serialize + Send + Sync + 'static,
{
    let stateside = use_stateside();
    let timer = Timer::new();
    move |args: A| {
        timer.cancel();
        timer.start(quiet, move || stateside.call(handler, args));
    }
}

/// A caller of `handler` that sends at most once per `every`: the first
/// call at once, and the last arguments given meanwhile when the interval
/// ends.
///
/// ```ignore
/// let set_volume = use_throttled(SET_VOLUME, Duration::from_millis(200));
/// view! { <input type="range" on:input=move |ev| set_volume(event_target_value(&ev)) /> }
/// ```
pub fn use_throttled<A>(handler: HandlerId<A>, every: Duration) -> impl Fn(A) + Copy + 'static
where
    A: Serialize + Send + Sync + 'static,
{
    let stateside = use_stateside();
    let timer = Timer::new();
    let last_sent = StoredValue::new(None::<f64>);
    let pending = StoredValue::new(None::<A>);
    let send = move |stateside: Stateside, args: A| {
        last_sent.set_value(Some(now_ms()));
        stateside.call(handler, args);
    };
    move |args: A| {
        let since = last_sent.get_value().map(|last| now_ms() - last);
        match since {
            Some(since) if since < every.as_secs_f64() * 1000.0 => {
                pending.set_value(Some(args));
                if !timer.is_running() {
                    let wait =
                        Duration::from_secs_f64((every.as_secs_f64() - since / 1000.0).max(0.0));
                    timer.start(wait, move || {
                        if let Some(args) = pending.try_update_value(Option::take).flatten() {
                            send(stateside, args);
                        }
                    });
                }
            }
            _ => {
                timer.cancel();
                pending.set_value(None);
                send(stateside, args);
            }
        }
    }
}

/// One call site's timer.
#[derive(Clone, Copy)]
struct Timer {
    #[cfg(feature = "hydrate")]
    handle: StoredValue<Option<TimeoutHandle>>,
}

impl Timer {
    fn new() -> Self {
        Self {
            #[cfg(feature = "hydrate")]
            handle: StoredValue::new(None),
        }
    }

    fn cancel(self) {
        #[cfg(feature = "hydrate")]
        if let Some(handle) = self.handle.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    }

    fn is_running(self) -> bool {
        #[cfg(feature = "hydrate")]
        return self.handle.with_value(Option::is_some);
        #[cfg(not(feature = "hydrate"))]
        false
    }

    /// Runs `then` after `wait`. On the server, where nothing is clicked,
    /// at once.
    fn start(self, wait: Duration, then: impl FnOnce() + 'static) {
        #[cfg(feature = "hydrate")]
        {
            let handle = self.handle;
            let fired = move || {
                handle.set_value(None);
                then();
            };
            self.handle
                .set_value(set_timeout_with_handle(fired, wait).ok());
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = wait;
            then();
        }
    }
}

/// Milliseconds on the page's monotonic clock.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    if let Some(performance) = window().performance() {
        return performance.now();
    }
    0.0
}
