//! The theme picker in the navigation: System, Light or Dark, kept in the
//! browser's `localStorage` (a client field), so a new tab and a reload
//! start with it, and a change in one tab reaches the others at once.
//!
//! The server holds the preference like any state, which is what lets a
//! handler read or change it; the browser's copy is what outlives the
//! session. Being the browser's, it is only a preference: nothing the
//! server trusts.

use leptos::prelude::*;
use leptos_meta::Html;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{HandlerId, State};

/// How the pages look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// The system's scheme (`prefers-color-scheme`).
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    const ALL: [Self; 3] = [Self::System, Self::Light, Self::Dark];

    /// Its name in the stylesheet (`data-theme`) and in storage.
    fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }
}

/// The tab's preferences.
#[derive(Clone, Debug, Default, PartialEq, State)]
pub struct Prefs {
    #[client(local = "theme")]
    pub theme: Theme,
}

pub const SET_THEME: HandlerId<Theme> = HandlerId::new("prefs/set_theme");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the picker's choice.

    use stateside::{App, Cx};

    use super::*;

    async fn set_theme(mut prefs: Cx<Prefs>, theme: Theme) -> anyhow::Result<()> {
        prefs.theme = theme;
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(SET_THEME, set_theme)
    }
}

/// The picker, and the theme applied to the whole page (`<html data-theme>`).
#[component]
pub fn ThemePicker() -> impl IntoView {
    let stateside = use_stateside();
    let theme = use_field(|prefs: &Prefs| prefs.theme);
    let choose = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        if let Some(theme) = Theme::ALL.into_iter().find(|t| t.as_str() == chosen) {
            stateside.call(SET_THEME, theme);
        }
    };
    view! {
        <Html {..} data-theme=move || theme.get().as_str() />
        <label class="theme-picker">
            "Theme"
            <select on:change=choose prop:value=move || theme.get().as_str()>
                {Theme::ALL
                    .into_iter()
                    .map(|option| {
                        view! { <option value=option.as_str()>{option.label()}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
