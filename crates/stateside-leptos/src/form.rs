//! Forms: a submitted `<form>` becomes a handler's typed arguments.
//!
//! The fields are read as the browser would send them (its `FormData`,
//! form-urlencoded) and decoded into the handler's argument type with
//! serde, so `<input name="age" type="number">` fills an `age: u32` and an
//! unchecked checkbox leaves a `#[serde(default)] bool` false. The server
//! then checks the values and answers with [`FieldErrors`](stateside_wire::FieldErrors)
//! in its state, which the page shows beside each field: validation lives
//! in one place, the handler.

use leptos::ev::SubmitEvent;
use serde::{Serialize, de::DeserializeOwned};
use stateside_wire::HandlerId;

use crate::context::Stateside;

impl Stateside {
    /// Sends the submitted form to `handler` as its arguments, instead of
    /// letting the browser post it. A form whose fields do not decode as
    /// `A` (a field the type lacks a default for is missing) is not sent,
    /// and says why in an error toast.
    ///
    /// ```ignore
    /// view! { <form on:submit=move |ev| stateside.submit(SIGN_UP, ev)> /* fields */ </form> }
    /// ```
    pub fn submit<A>(&self, handler: HandlerId<A>, event: SubmitEvent)
    where
        A: Serialize + DeserializeOwned,
    {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        match read(&event) {
            Ok(args) => self.call(handler, args),
            Err(why) => self.error(format!("{}: the form does not read: {why}", handler.name())),
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = handler;
    }
}

/// The form's fields, decoded as `A`.
#[cfg(feature = "hydrate")]
fn read<A: DeserializeOwned>(event: &SubmitEvent) -> Result<A, String> {
    use wasm_bindgen::JsCast;

    let form = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
        .ok_or("not a form")?;
    let data = web_sys::FormData::new_with_form(&form).map_err(|_| "no form data")?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data)
        .map_err(|_| "its fields do not read")?;
    serde_urlencoded::from_str(&String::from(params.to_string())).map_err(|error| error.to_string())
}
