//! The wasm entry point. It only hydrates: the UI lives in `app`, so the
//! server and the browser render the same components.

/// Called by the JS that cargo-leptos generates, once the wasm has loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
