//! `#[derive(State)]`: a Stateside state from a plain struct.
//!
//! The derive writes what a hand-written `impl State` would otherwise have
//! to: the state's name, its serde impls (the form clients see), and
//! change tracking field by field, so that publishing a change costs what
//! the change costs rather than what the state weighs.
//!
//! ```ignore
//! use stateside_wire::{List, State};
//!
//! #[derive(Clone, Default, State)]
//! #[state(name = "cart")] // optional: the default is the name in snake_case
//! pub struct Cart {
//!     pub items: List<Item>,          // one op per push, remove, set
//!     pub discount: u32,              // serialised and diffed
//!     #[computed(total(items, discount))]
//!     pub total: u64,                 // recomputed when `items` or `discount` change
//!     #[backend]
//!     pub coupon_secret: String,      // stored, never sent
//! }
//!
//! fn total(items: &List<Item>, discount: &u32) -> u64 { /* … */ }
//! ```
//!
//! - A field whose type implements `Tracked` (`List`, `Map`) sends its
//!   journal; any other field is serialised and diffed against what the
//!   client has, so plain std types work unchanged.
//! - `#[computed(f(a, b))]`: `f` receives exactly the fields it names, by
//!   reference, so the list of inputs cannot drift from what it reads. It
//!   runs when the state is first created or restored and when one of its
//!   inputs changed in a published section, never otherwise. Its value is
//!   sent like any field and never read back from a store.
//! - `#[backend]`: kept by every store, never sent to a browser.
//! - `#[client(local = "key")]` (or `session`, `cookie`; the key defaults
//!   to the field's name): also kept in the browser's `localStorage`,
//!   `sessionStorage` or a cookie, read into the session when a tab's page
//!   loads and written back when it changes. The browser's copy is
//!   untrusted input: a text that does not read leaves the field as it was.
//! - `#[state(crate = "path")]`: where `stateside_wire` is, for a crate
//!   that names it otherwise (the default is `::stateside_wire`).
//!
//! The derive provides `Serialize` and `Deserialize`: do not derive them
//! too. A missing field deserialises as its value in `Default::default()`.

mod expand;
mod parse;

use proc_macro::TokenStream;

/// Derives `stateside_wire::State`; see the crate docs.
#[proc_macro_derive(State, attributes(state, computed, backend, client))]
pub fn derive_state(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    parse::Spec::from_input(&input)
        .map(|spec| expand::expand(&spec))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
