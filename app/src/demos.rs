//! The list of demos: one place that the nav bar and the landing page's
//! guide are both drawn from, so they cannot disagree.

use leptos::prelude::*;
use leptos_router::components::A;

pub struct Demo {
    pub path: &'static str,
    pub name: &'static str,
    /// Two lines on what the demo shows.
    pub shows: &'static str,
}

pub const DEMOS: &[Demo] = &[
    Demo {
        path: "/",
        name: "Counter",
        shows: "One session's events run in order: a slow +1 holds up the next. \
                A background count runs beside them.",
    },
    Demo {
        path: "/posts",
        name: "Posts",
        shows: "Ten items from a JSON API, chained step by step or in one background task. \
                A click counter shows which style keeps the page responsive.",
    },
    Demo {
        path: "/lorem",
        name: "Lorem stream",
        shows: "Any number of background tasks streaming text into their own cards. \
                Pause, resume and kill go through the engine's task cancellation.",
    },
    Demo {
        path: "/random/chain",
        name: "Random range",
        shows: "Reflex's random-number-range in both styles, on two pages that share a total. \
                The chained one holds your clicks during its delay; the background one does not.",
    },
    Demo {
        path: "/dashboard",
        name: "Dashboard",
        shows: "Four panels, each driven by its own background task at its own rate. \
                Stop one and the others carry on.",
    },
    Demo {
        path: "/inbox",
        name: "Inbox",
        shows: "A webhook posts into your open tab by its inbox code. A page load counts, a reconnect does not. \
                A debounced filter and a throttled slider, and how many events each one sent.",
    },
    Demo {
        path: "/board",
        name: "Board",
        shows: "A board of cards per room, shared by everyone who joins it: a shared state. \
                Each change shows in every tab in the room, with who is here.",
    },
    Demo {
        path: "/files",
        name: "Files",
        shows: "Several files uploaded at once, streamed to a handler, with each one's progress and a cancel. \
                The server lists what it saved.",
    },
];

/// The nav bar's links, one per demo.
#[component]
pub fn DemoLinks() -> impl IntoView {
    DEMOS
        .iter()
        .map(|demo| view! { <A href=demo.path>{demo.name}</A> })
        .collect_view()
}

/// The landing page's short guide to the demos.
#[component]
pub fn DemoGuide() -> impl IntoView {
    view! {
        <section class="card guide">
            <h2>"The demos"</h2>
            <dl class="guide-list">
                {DEMOS
                    .iter()
                    .map(|demo| {
                        view! {
                            <dt>
                                <A href=demo.path>{demo.name}</A>
                            </dt>
                            <dd>{demo.shows}</dd>
                        }
                    })
                    .collect_view()}
            </dl>
        </section>
    }
}
