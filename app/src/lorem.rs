//! `/lorem`: Reflex's lorem-stream. Any number of background tasks, each
//! streaming three words every half second into its own card, with pause,
//! resume, restart and kill.
//!
//! Unlike Reflex's example, pause and kill cancel the task through the
//! engine instead of leaving a flag for it to poll, and a card's stream is
//! registered as superseding: starting it again cancels any loop still
//! running for that card. A quick pause and resume therefore never leaves
//! two loops writing into one card. It is restartable too: it streams from
//! where its card stands, so after a server restart the streams go on.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::{HandlerId, Map, State};

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Ticks streamed so far, out of `end_at`.
    pub progress: u32,
    pub end_at: u32,
    pub text: String,
    pub running: bool,
}

impl Card {
    pub fn done(&self) -> bool {
        self.progress >= self.end_at
    }
}

/// The cards, keyed by id: an update to one card is one op on that card.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "lorem")]
pub struct Lorem {
    pub cards: Map<u32, Card>,
    pub last_id: u32,
    /// The engine's id of the task streaming into each running card, for
    /// pause and kill to cancel it. The page has no use for it, so it is
    /// kept by the stores (a reloaded session can still cancel) and never
    /// sent.
    #[backend]
    tasks: Map<u32, u64>,
}

pub const NEW_TASK: HandlerId<()> = HandlerId::new("lorem/new_task");
/// Pause a running card, resume a paused one, restart a finished one.
pub const TOGGLE: HandlerId<u32> = HandlerId::new("lorem/toggle");
pub const KILL: HandlerId<u32> = HandlerId::new("lorem/kill");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the stream task and the buttons that steer it.

    use std::time::Duration;

    use rand::seq::IndexedRandom;
    use stateside::{App, Cx, Task, TaskId};

    use super::*;

    /// Started by the buttons' handlers, which record its task id.
    const STREAM: HandlerId<u32> = HandlerId::new("lorem/stream");
    const WORDS_PER_TICK: usize = 3;
    const TICK: Duration = Duration::from_millis(500);
    const WORDS: &[&str] = &[
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
        "aliqua",
        "enim",
        "ad",
        "minim",
        "veniam",
        "quis",
        "nostrud",
        "exercitation",
        "ullamco",
        "laboris",
        "nisi",
        "aliquip",
        "ex",
        "ea",
        "commodo",
        "consequat",
    ];

    impl Card {
        /// A card about to stream from the start, to a random end in 7..=12.
        fn fresh() -> Self {
            Card {
                end_at: rand::random_range(7..=12),
                ..Card::default()
            }
        }
    }

    fn words() -> String {
        let mut rng = rand::rng();
        (0..WORDS_PER_TICK)
            .filter_map(|_| WORDS.choose(&mut rng))
            .map(|word| format!("{word} "))
            .collect()
    }

    async fn new_task(mut lorem: Cx<Lorem>, (): ()) -> anyhow::Result<()> {
        lorem.last_id += 1;
        let id = lorem.last_id;
        lorem.cards.insert(id, Card::fresh());
        stream_card(&mut lorem, id)
    }

    async fn toggle(mut lorem: Cx<Lorem>, id: u32) -> anyhow::Result<()> {
        let Some(card) = lorem.cards.get(&id) else {
            return Ok(());
        };
        if card.running {
            lorem.cards.update(&id, |card| card.running = false);
            cancel_card(&mut lorem, id);
            return Ok(());
        }
        if card.done() {
            lorem.cards.insert(id, Card::fresh());
        }
        stream_card(&mut lorem, id)
    }

    async fn kill(mut lorem: Cx<Lorem>, id: u32) -> anyhow::Result<()> {
        lorem.cards.remove(&id);
        cancel_card(&mut lorem, id);
        Ok(())
    }

    /// Starts (or resumes) the card's stream and records its task.
    fn stream_card(lorem: &mut Cx<Lorem>, id: u32) -> anyhow::Result<()> {
        let task = lorem.start(STREAM, &id)?;
        lorem.cards.update(&id, |card| card.running = true);
        lorem.tasks.insert(id, task.0);
        Ok(())
    }

    /// Cancels the card's stream, if one is running.
    fn cancel_card(lorem: &mut Cx<Lorem>, id: u32) {
        if let Some(task) = lorem.tasks.remove(&id) {
            lorem.cancel(TaskId(task));
        }
    }

    /// Streams into one card from where it stands to its end. Paused or
    /// killed, it is cancelled while it sleeps, so it needs no checks.
    async fn stream(mut task: Task<Lorem>, id: u32) -> anyhow::Result<()> {
        loop {
            tokio::time::sleep(TICK).await;
            let mut lorem = task.lock().await;
            let done = lorem.cards.update(&id, |card| {
                card.text.push_str(&words());
                card.progress += 1;
                if card.done() {
                    card.running = false;
                }
                card.done()
            });
            match done {
                // Killed while it slept, or finished.
                None => return Ok(()),
                Some(true) => {
                    lorem.tasks.remove(&id);
                    return Ok(());
                }
                Some(false) => {}
            }
        }
    }

    pub fn register(app: App) -> App {
        app.on(NEW_TASK, new_task)
            .on(TOGGLE, toggle)
            .on(KILL, kill)
            .background_restartable(STREAM, stream)
    }
}

#[component]
pub fn LoremPage() -> impl IntoView {
    let stateside = use_stateside();
    let lorem = use_state::<Lorem>();
    // Newest first, as in Reflex's example.
    let ids = move || lorem.with(|lorem| lorem.cards.keys().rev().copied().collect::<Vec<_>>());

    view! {
        <section class="card">
            <h1>"Lorem stream"</h1>
            <p class="lead">
                "Each task is a background task that adds three words every half second, "
                "to a random end. Start as many as you like; pause, resume or kill any of them."
            </p>
            <button class="btn btn-primary" data-testid="new-task" on:click=move |_| stateside.call(NEW_TASK, ())>
                "+ New task"
            </button>
        </section>
        <div class="lorem-grid">
            <For each=ids key=|id| *id let:id>
                <LoremCard id lorem />
            </For>
        </div>
    }
}

#[component]
fn LoremCard(id: u32, lorem: Memo<Lorem>) -> impl IntoView {
    let stateside = use_stateside();
    let card =
        Memo::new(move |_| lorem.with(|lorem| lorem.cards.get(&id).cloned().unwrap_or_default()));
    let toggle_label = move || {
        card.with(|card| match (card.done(), card.running) {
            (true, _) => "↻ Restart",
            (false, true) => "❚❚ Pause",
            (false, false) => "▶ Resume",
        })
    };

    view! {
        <article
            class="card lorem-card"
            data-testid="lorem-card"
            data-id=id
            data-progress=move || card.with(|card| card.progress)
            data-end=move || card.with(|card| card.end_at)
            data-running=move || card.with(|card| card.running.to_string())
        >
            <div class="lorem-head">
                <ProgressRing label=id progress=card />
                <div class="lorem-buttons">
                    <button class="btn" data-testid="toggle" on:click=move |_| stateside.call(TOGGLE, id)>
                        {toggle_label}
                    </button>
                    <button class="btn btn-danger" data-testid="kill" on:click=move |_| stateside.call(KILL, id)>
                        "✕ Kill"
                    </button>
                </div>
            </div>
            <div class="lorem-text" data-testid="text">{move || card.with(|card| card.text.clone())}</div>
        </article>
    }
}

/// A circular progress drawn in SVG, spinning while nothing has arrived.
#[component]
fn ProgressRing(label: u32, progress: Memo<Card>) -> impl IntoView {
    // A radius whose circumference is 100, so the dash is the percentage.
    const R: f64 = 15.915_494;
    let percent = move || {
        progress.with(|card| f64::from(card.progress) * 100.0 / f64::from(card.end_at.max(1)))
    };
    let indeterminate = move || progress.with(|card| card.progress == 0 && card.running);
    view! {
        <svg
            class="ring"
            class:indeterminate=indeterminate
            viewBox="0 0 36 36"
            role="progressbar"
            aria-label=format!("Task {label}")
            aria-valuenow=move || progress.with(|card| card.progress)
            aria-valuemax=move || progress.with(|card| card.end_at)
        >
            <circle class="ring-track" cx="18" cy="18" r=R />
            <circle
                class="ring-value"
                cx="18"
                cy="18"
                r=R
                stroke-dasharray=move || {
                    if indeterminate() { "25 75".to_owned() } else { format!("{:.1} 100", percent()) }
                }
            />
            <text class="ring-label" x="18" y="18">{label}</text>
        </svg>
    }
}
