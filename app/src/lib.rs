//! The demo app: the HTML shell the server renders around it, the router, and
//! one module per page. Compiled with `ssr` into the server and with `hydrate`
//! into the wasm, so both sides render the same components.

// The router's view type nests every page's; past a dozen routes it is
// deeper than the compiler's default limit of 128.
#![recursion_limit = "256"]

pub mod account;
pub mod actions;
pub mod bench;
pub mod board;
mod clicker;
mod dashboard;
mod demos;
mod field;
pub mod files;
pub mod home;
pub mod inbox;
mod lorem;
mod posts;
mod random;
mod signup;
pub mod theme;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
    path,
};

use demos::DemoLinks;
use home::HomePage;
use stateside_leptos::{ConnectionBanner, Stateside, SyncGate, Toasts, use_page_events};

/// Every handler of the app, for the server's engine. `products_url` is
/// where the posts demo fetches its items (`{products_url}/{id}`); `bench`
/// adds the benchmark's handlers, which only `make bench` and the tests
/// should serve; `accounts` are the users and logins of `/account`.
#[cfg(feature = "ssr")]
pub fn handlers(
    products_url: &str,
    bench: bool,
    accounts: &account::Accounts,
) -> anyhow::Result<stateside::App> {
    let app = home::handlers::register(stateside::App::new());
    let app = accounts.register(app);
    let app = actions::handlers::register(app);
    let app = clicker::handlers::register(app);
    let app = posts::handlers::register(app, posts::handlers::ProductsApi::new(products_url)?);
    let app = lorem::handlers::register(app);
    let app = random::handlers::register(app);
    let app = dashboard::handlers::register(app);
    let app = inbox::handlers::register(app);
    let app = signup::handlers::register(app);
    let app = board::handlers::register(app);
    let app = theme::handlers::register(app);
    let app = files::handlers::register(app);
    Ok(if bench {
        bench::handlers::register(app)
    } else {
        app
    })
}

/// The whole document, rendered only on the server. The wasm hydrates the
/// `<body>` that `App` produced inside it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // No favicon file: an empty one stops a 404 on every page load.
                <link rel="icon" href="data:," />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: navigation and the page routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Stateside::provide();

    view! {
        // Named after `name` in [[workspace.metadata.leptos]].
        <Stylesheet id="leptos" href="/pkg/stateside.css" />
        <Title text="Stateside" />
        <Router>
            <PageEvents />
            <nav class="nav">
                <A href="/" attr:class="nav-brand">
                    "Stateside"
                </A>
                <div class="nav-links">
                    <DemoLinks />
                    <A href="/actions">"Actions"</A>
                    <A href="/account">"Account"</A>
                </div>
                <theme::ThemePicker />
            </nav>
            <ConnectionBanner />
            <Toasts />
            <main class="container">
                <SyncGate>
                <Routes fallback=|| view! { <p class="card">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("actions") view=actions::ActionsPage />
                    <Route path=StaticSegment("account") view=account::AccountPage />
                    <Route path=path!("/posts") view=posts::PostsPage />
                    <Route path=path!("/lorem") view=lorem::LoremPage />
                    <Route path=path!("/random/chain") view=random::RandomChainPage />
                    <Route path=path!("/random/background") view=random::RandomBackgroundPage />
                    <Route path=path!("/dashboard") view=dashboard::DashboardPage />
                    <Route path=path!("/inbox") view=inbox::InboxPage />
                    <Route path=path!("/board") view=board::BoardPage />
                    <Route path=path!("/files") view=files::FilesPage />
                </Routes>
            </SyncGate>
            </main>
        </Router>
    }
}

/// Tells the session which page the tab shows, so the app's `on_load` and
/// `on_unload` hooks run on the server. It reads the router's location, so
/// it sits inside `<Router>`, once.
#[component]
fn PageEvents() -> impl IntoView {
    use_page_events();
}
