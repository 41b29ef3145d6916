//! One labelled form input, with the server's message for it beneath:
//! marked `aria-invalid` and described by the message while there is one,
//! so a screen reader reads the message with the field. Every form of the
//! demo draws its fields with it.

use leptos::prelude::*;

/// The input named `name`, with the id `{form}-{name}`; `error` is the
/// server's message for it, if any.
#[component]
pub fn FormField(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    /// The browser's autofill hint (`email`, `current-password`).
    #[prop(optional)]
    autocomplete: Option<&'static str>,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="form-field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                class="input"
                name=name
                type=kind
                autocomplete=autocomplete
                aria-invalid=move || error.with(Option::is_some).to_string()
                aria-describedby=error_id.clone()
            />
            <p id=error_id class="field-error">{move || error.get()}</p>
        </div>
    }
}
