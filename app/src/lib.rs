//! The demo app: the HTML shell the server renders around it, the router, and
//! one module per page. Compiled with `ssr` into the server and with `hydrate`
//! into the wasm, so both sides render the same components.

mod home;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
};

use home::HomePage;
use stateside_leptos::{ConnectionBanner, Stateside, Toasts};

/// Every handler of the app, for the server's engine.
#[cfg(feature = "ssr")]
pub fn handlers() -> stateside::App {
    home::handlers::register(stateside::App::new())
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
            <nav class="nav">
                <A href="/" attr:class="nav-brand">
                    "Stateside"
                </A>
                <div class="nav-links">
                    <A href="/">"Counter"</A>
                </div>
            </nav>
            <ConnectionBanner />
            <Toasts />
            <main class="container">
                <Routes fallback=|| view! { <p class="card">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=HomePage />
                </Routes>
            </main>
        </Router>
    }
}
