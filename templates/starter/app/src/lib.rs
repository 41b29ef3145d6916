//! {{project-name}}: the HTML shell the server renders around the app, the
//! router, and one module per page. Compiled with `ssr` into the server and
//! with `hydrate` into the wasm, so both sides render the same components.

pub mod counter;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};
use stateside_leptos::{ConnectionBanner, Stateside, SyncGate, Toasts, use_page_events};

/// Every handler of the app, for the server's engine.
#[cfg(feature = "ssr")]
pub fn handlers() -> stateside::App {
    counter::handlers::register(stateside::App::new())
}

/// The whole document, rendered on the server only; the wasm hydrates its
/// `<body>`. `AutoReload` is what reloads the page after `make run` rebuilt.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The site's files are named after its `output-name`.
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" id="leptos" href=stylesheet />
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

/// The root component: Stateside's client, its banner and toasts, and the
/// routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Stateside::provide();

    view! {
        <Title text="{{project-name}}" />
        <Router>
            <PageEvents />
            <ConnectionBanner />
            <Toasts />
            <main>
                <SyncGate>
                    <Routes fallback=|| view! { <p>"Page not found."</p> }>
                        <Route path=StaticSegment("") view=counter::CounterPage />
                    </Routes>
                </SyncGate>
            </main>
        </Router>
    }
}

/// Tells the session which page the tab shows, for `App::on_load` hooks.
/// It reads the router's location, so it sits inside `<Router>`, once.
#[component]
fn PageEvents() -> impl IntoView {
    use_page_events();
}
