//! `/posts`: the seed's example. Ten products from a JSON API, fetched two
//! ways side by side, with a click counter to show what each does to the
//! session's queue.
//!
//! - Chained: a foreground handler fetches one item, appends it and chains
//!   itself. Clicks get in between steps, but each waits for a whole fetch.
//! - Background: one task fetches without the lock and takes it only to
//!   append. Clicks apply at once.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::{HandlerId, List, State};

use crate::clicker::ClickCounter;

/// Items per run.
pub const ITEMS: usize = 10;

/// One item of the API, as its JSON has it.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: u32,
    pub title: String,
    pub description: String,
    pub price: f64,
    pub rating: f64,
    pub brand: String,
    pub category: String,
}

/// One style's latest run, but for its items, which are a field of
/// [`Posts`] of their own: only a `List` that is a field of the state itself
/// sends each append as one op (one inside `Run` would be diffed with it).
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub running: bool,
    /// From the start to the latest item, measured on the server.
    pub elapsed_ms: u64,
    /// Clicks applied between the start and the latest item.
    pub clicks: u32,
    pub error: Option<String>,
    /// Bookkeeping for the two figures above. Kept in the state rather
    /// than skipped, so a store that reloads state loses nothing.
    started_at_ms: u64,
    clicks_at_start: u32,
}

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "posts")]
pub struct Posts {
    pub chained: Run,
    pub chained_items: List<Product>,
    pub background: Run,
    pub background_items: List<Product>,
}

pub const START_CHAINED: HandlerId<()> = HandlerId::new("posts/start_chained");
pub const FETCH_BACKGROUND: HandlerId<()> = HandlerId::new("posts/fetch_background");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the two fetch loops and the HTTP client they share.

    use std::{
        sync::Arc,
        time::{Duration, SystemTime, UNIX_EPOCH},
    };

    use stateside::{App, Cx, Task};

    use super::*;
    use crate::clicker::Clicks;

    /// Chained by the handler itself; the page never calls it.
    const CHAINED_STEP: HandlerId<()> = HandlerId::new("posts/chained_step");

    /// The products API: a real HTTP client and where to find the API.
    /// Cheap to clone, so each handler closure owns one.
    #[derive(Clone)]
    pub struct ProductsApi {
        http: reqwest::Client,
        base: Arc<str>,
    }

    impl ProductsApi {
        /// `base` is the collection URL; item `n` is at `{base}/{n}`.
        pub fn new(base: &str) -> anyhow::Result<Self> {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?;
            let base = base.trim_end_matches('/').into();
            Ok(Self { http, base })
        }

        async fn product(&self, id: usize) -> anyhow::Result<Product> {
            let url = format!("{}/{id}", self.base);
            let response = self.http.get(&url).send().await?.error_for_status()?;
            Ok(response.json().await?)
        }
    }

    impl Run {
        /// A new run, with no items yet.
        fn begin(&mut self, items: &mut List<Product>, clicks: u32) {
            *self = Run {
                running: true,
                started_at_ms: now_ms(),
                clicks_at_start: clicks,
                ..Run::default()
            };
            items.clear();
        }

        /// Takes one fetch's outcome; returns whether to fetch another.
        fn record(
            &mut self,
            items: &mut List<Product>,
            fetched: anyhow::Result<Product>,
            clicks: u32,
        ) -> bool {
            match fetched {
                Ok(product) => items.push(product),
                // The chain names the API's URL: the page gets an error id,
                // the log the chain under it.
                Err(error) => self.error = Some(stateside::incident("posts", format!("{error:#}"))),
            }
            self.elapsed_ms = now_ms().saturating_sub(self.started_at_ms);
            self.clicks = clicks.saturating_sub(self.clicks_at_start);
            self.running = self.error.is_none() && items.len() < ITEMS;
            self.running
        }
    }

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64)
    }

    async fn start_chained(mut posts: Cx<Posts>, (): ()) -> anyhow::Result<()> {
        if posts.chained.running {
            return Ok(());
        }
        let clicks = posts.state::<Clicks>().count;
        let Posts {
            chained,
            chained_items,
            ..
        } = &mut *posts;
        chained.begin(chained_items, clicks);
        posts.emit(CHAINED_STEP, &())?;
        Ok(())
    }

    /// One item per event. The fetch is awaited inside the handler, so the
    /// session's queue is held for its whole length: the cost of this style.
    async fn chained_step(mut posts: Cx<Posts>, api: ProductsApi) -> anyhow::Result<()> {
        if !posts.chained.running {
            return Ok(());
        }
        let fetched = api.product(posts.chained_items.len() + 1).await;
        let clicks = posts.state::<Clicks>().count;
        let Posts {
            chained,
            chained_items,
            ..
        } = &mut *posts;
        if chained.record(chained_items, fetched, clicks) {
            posts.emit(CHAINED_STEP, &())?;
        }
        Ok(())
    }

    /// Steps still queued when the server stopped are gone: a restored
    /// session goes on with the chain from the next item.
    async fn resume_chained(mut posts: Cx<Posts>) -> anyhow::Result<()> {
        if posts.chained.running {
            posts.emit(CHAINED_STEP, &())?;
        }
        Ok(())
    }

    /// The background fetch was running when the server stopped. It is not
    /// restartable (it would fetch from the first item again), so it ends
    /// here, saying why; the button fetches anew.
    async fn background_lost(mut posts: Cx<Posts>, (): ()) -> anyhow::Result<()> {
        posts.background.running = false;
        posts.background.error = Some("stopped by a server restart".to_owned());
        Ok(())
    }

    /// All ten in one task, which holds the lock only to append.
    async fn fetch_background(mut task: Task<Posts>, api: ProductsApi) -> anyhow::Result<()> {
        {
            let mut posts = task.lock().await;
            if posts.background.running {
                return Ok(()); // one run at a time
            }
            let clicks = posts.state::<Clicks>().count;
            let Posts {
                background,
                background_items,
                ..
            } = &mut *posts;
            background.begin(background_items, clicks);
        }
        for id in 1..=ITEMS {
            let fetched = api.product(id).await;
            let mut posts = task.lock().await;
            let clicks = posts.state::<Clicks>().count;
            let Posts {
                background,
                background_items,
                ..
            } = &mut *posts;
            if !background.record(background_items, fetched, clicks) {
                break;
            }
        }
        Ok(())
    }

    pub fn register(app: App, api: ProductsApi) -> App {
        let chained_api = api.clone();
        app.on(START_CHAINED, start_chained)
            .internal(CHAINED_STEP, move |posts: Cx<Posts>, ()| {
                chained_step(posts, chained_api.clone())
            })
            .on_restore(resume_chained)
            .background(FETCH_BACKGROUND, move |task: Task<Posts>, ()| {
                fetch_background(task, api.clone())
            })
            .on_lost(FETCH_BACKGROUND, background_lost)
    }
}

#[component]
pub fn PostsPage() -> impl IntoView {
    let posts = use_state::<Posts>();
    let chained = Memo::new(move |_| posts.with(|posts| posts.chained.clone()));
    let background = Memo::new(move |_| posts.with(|posts| posts.background.clone()));
    let chained_items = Memo::new(move |_| posts.with(|posts| posts.chained_items.clone()));
    let background_items = Memo::new(move |_| posts.with(|posts| posts.background_items.clone()));

    view! {
        <section class="card">
            <h1>"Posts"</h1>
            <p class="lead">
                "Ten products from a JSON API, about 300 ms each, fetched two ways. "
                "Keep clicking +1 during each run: chained, every click waits for the fetch in "
                "progress; background, clicks apply at once."
            </p>
            <ClickCounter />
        </section>
        <div class="posts-grid">
            <RunColumn
                title="Chained"
                testid="chained"
                blurb="A handler fetches one item, appends it and chains itself."
                start=START_CHAINED
                run=chained
                items=chained_items
            />
            <RunColumn
                title="Background"
                testid="background"
                blurb="One task fetches without the lock and locks only to append."
                start=FETCH_BACKGROUND
                run=background
                items=background_items
            />
        </div>
    }
}

/// One style: its start button, progress, timing and items.
#[component]
fn RunColumn(
    title: &'static str,
    testid: &'static str,
    blurb: &'static str,
    start: HandlerId<()>,
    run: Memo<Run>,
    items: Memo<List<Product>>,
) -> impl IntoView {
    let stateside = use_stateside();
    let running = move || run.with(|run| run.running);
    let fetched = move || items.with(List::len);
    let status = move || {
        let fetched = fetched();
        run.with(|run| {
            let seconds = run.elapsed_ms as f64 / 1000.0;
            let clicks = match run.clicks {
                1 => "1 click".to_owned(),
                n => format!("{n} clicks"),
            };
            format!("{fetched}/{ITEMS} in {seconds:.1} s · {clicks} applied")
        })
    };

    view! {
        <section class="card run" data-testid=testid>
            <div class="run-head">
                <h2>{title}</h2>
                // Two runs on one page: each button and bar is named after
                // its run, so a screen reader tells them apart.
                <button
                    class="btn btn-primary"
                    data-testid="start"
                    aria-label=move || {
                        let what = if running() { "Fetching…" } else { "Fetch 10" };
                        format!("{what} ({title})")
                    }
                    disabled=running
                    on:click=move |_| stateside.call(start, ())
                >
                    {move || if running() { "Fetching…" } else { "Fetch 10" }}
                </button>
            </div>
            <p class="muted">{blurb}</p>
            <div
                class="progress"
                role="progressbar"
                aria-label=title
                aria-valuemin="0"
                aria-valuemax=ITEMS
                aria-valuenow=fetched
            >
                <div class="progress-bar" style:width=move || format!("{}%", fetched() * 100 / ITEMS)></div>
            </div>
            <p class="run-status" data-testid="status">{status}</p>
            {move || run.with(|run| run.error.clone()).map(|error| view! { <p class="error">{error}</p> })}
            <ol class="post-list">
                <For each=move || items.with(|items| items.iter().cloned().collect::<Vec<_>>()) key=|product| product.id let:product>
                    <li class="post-item">
                        <div class="post-title">
                            <strong>{product.title}</strong>
                            <span class="post-price">{format!("${:.2}", product.price)}</span>
                        </div>
                        <div class="muted">
                            {format!("{} · {} · ★ {:.1}", product.brand, product.category, product.rating)}
                        </div>
                        <p class="post-description">{product.description}</p>
                    </li>
                </For>
            </ol>
        </section>
    }
}
