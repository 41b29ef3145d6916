//! `/random/chain` and `/random/background`: Reflex's random-number-range.
//! Both pages draw random numbers in a range, after a delay, into one shared
//! parent state (range, delay, values, total), so their results add up.
//! Each page has its own run (the Run switch, the spinner) and makes its
//! steps wait in its own way:
//!
//! - [`chain`]: each step is a foreground handler that sleeps through the
//!   delay, so the session's queue is held and other clicks wait.
//! - [`background`]: a task sleeps without the lock, so other clicks apply
//!   at once. At most one such task runs per session.
//!
//! The "applied, in order" list shows the difference: a Clear clicked while
//! a value is loading lands after the value when chained, before it in the
//! background.
//!
//! This module holds what the two pages share, so that each page's module
//! is only what makes it different: the parent state and its handlers,
//! the bookkeeping of a run, and the page layout ([`page`]).

mod background;
mod chain;
mod page;

use serde::{Deserialize, Serialize};
use stateside_wire::{HandlerId, List, State};

pub use background::RandomBackgroundPage;
pub use chain::RandomChainPage;

/// Values listed (Reflex's "last 10 values").
pub const VALUES_SHOWN: usize = 10;
pub const RANGE_LIMIT: i32 = 100;

/// What both pages share (Reflex's parent state).
#[derive(Clone, Debug, PartialEq, State)]
#[state(name = "random")]
pub struct RandomShared {
    pub min: i32,
    pub max: i32,
    pub delay_s: u32,
    /// The last [`VALUES_SHOWN`], oldest first.
    pub values: List<i32>,
    pub total: i64,
    /// The latest shared edits, oldest first.
    pub log: List<String>,
}

impl Default for RandomShared {
    fn default() -> Self {
        Self {
            min: -10,
            max: 10,
            delay_s: 1,
            values: List::new(),
            total: 0,
            log: List::new(),
        }
    }
}

/// One page's run (Reflex's substates). Each page keeps it in a state of
/// its own, so running one page does not show as running on the other.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Runner {
    /// The Run switch.
    pub running: bool,
    /// A value is on its way.
    pub loading: bool,
    /// A step is queued or a task is alive, so another start must not
    /// launch a second run.
    busy: bool,
}

pub const SET_RANGE: HandlerId<(i32, i32)> = HandlerId::new("random/set_range");
pub const BALANCE: HandlerId<()> = HandlerId::new("random/balance");
pub const CLEAR: HandlerId<()> = HandlerId::new("random/clear");
pub const SET_DELAY: HandlerId<u32> = HandlerId::new("random/set_delay");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the edits both pages share, and the bookkeeping of a
    //! run, which each page's own handlers drive.

    use std::time::Duration;

    use stateside::{App, Cx};

    use super::*;

    /// Events listed under "applied, in order".
    const LOG_SHOWN: usize = 8;

    impl RandomShared {
        /// Draws the next value.
        pub(super) fn roll(&mut self) {
            let value = rand::random_range(self.min..=self.max);
            self.total += i64::from(value);
            self.values.push(value);
            while self.values.len() > VALUES_SHOWN {
                self.values.pop_front();
            }
            self.note(format!("value {value:+}"));
        }

        fn note(&mut self, what: String) {
            self.log.push(what);
            while self.log.len() > LOG_SHOWN {
                self.log.pop_front();
            }
        }

        pub(super) fn delay(&self) -> Duration {
            Duration::from_secs(self.delay_s.into())
        }
    }

    // Each method answers whether the page must launch a run, or keep its
    // run going, so that the pages differ only in how they launch one.
    impl Runner {
        /// The Run switch: true if turning it on must launch a run.
        pub(super) fn switch(&mut self, on: bool) -> bool {
            self.running = on;
            on && self.claim()
        }

        /// Stops the loop after one more value (Reflex's single step): true
        /// if no run is under way to draw it, so one must be launched.
        pub(super) fn single_step(&mut self) -> bool {
            self.running = false;
            self.claim()
        }

        /// A value has arrived: true if the run goes on for another.
        pub(super) fn step_done(&mut self) -> bool {
            self.loading = false;
            if !self.running {
                self.busy = false;
            }
            self.running
        }

        /// After a server restart, which lost any step still queued: true
        /// if the switch is on, so the run must be launched again.
        pub(super) fn resumed(&mut self) -> bool {
            self.loading = false;
            self.busy = self.running;
            self.running
        }

        /// Takes the page's one run; false if it is already under way.
        fn claim(&mut self) -> bool {
            !std::mem::replace(&mut self.busy, true)
        }
    }

    async fn set_range(mut shared: Cx<RandomShared>, (a, b): (i32, i32)) -> anyhow::Result<()> {
        let [a, b] = [a, b].map(|end| end.clamp(-RANGE_LIMIT, RANGE_LIMIT));
        (shared.min, shared.max) = (a.min(b), a.max(b));
        let range = format!("range {}..{}", shared.min, shared.max);
        shared.note(range);
        Ok(())
    }

    async fn balance(mut shared: Cx<RandomShared>, (): ()) -> anyhow::Result<()> {
        let reach = shared.min.abs().max(shared.max.abs());
        (shared.min, shared.max) = (-reach, reach);
        shared.note("balanced".to_owned());
        Ok(())
    }

    async fn clear(mut shared: Cx<RandomShared>, (): ()) -> anyhow::Result<()> {
        shared.total = 0;
        shared.values.clear();
        shared.note("cleared".to_owned());
        Ok(())
    }

    async fn set_delay(mut shared: Cx<RandomShared>, seconds: u32) -> anyhow::Result<()> {
        shared.delay_s = seconds.clamp(1, 4);
        Ok(())
    }

    /// The shared handlers and both pages' own.
    pub fn register(app: App) -> App {
        let app = app
            .on(SET_RANGE, set_range)
            .on(BALANCE, balance)
            .on(CLEAR, clear)
            .on(SET_DELAY, set_delay);
        background::handlers::register(chain::handlers::register(app))
    }
}
