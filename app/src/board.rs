//! `/board`: a board of cards per room, shared by everyone in the room.
//!
//! The board is a shared state ([`SharedState`]): one value per room, held
//! once on the server, linked by every session that joins the room. A
//! change any tab makes shows in every tab in the room, each through its
//! own stream; "Who is here" is the board's presence, which the engine
//! keeps up to date as tabs come and go.
//!
//! The room key is the server's: the handler checks the name a tab asks
//! for and builds the key from it, so a tab can only join a room by a name
//! the rules allow.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{HandlerId, List, Presence, SharedState, State};

/// The longest room name, in characters.
pub const MAX_ROOM: usize = 32;
/// The longest card text, in bytes.
pub const MAX_CARD: usize = 200;
/// Cards a board keeps at most.
pub const MAX_CARDS: usize = 200;

/// One room's board.
#[derive(Clone, Debug, Default, PartialEq, State)]
#[state(name = "board")]
pub struct Board {
    pub cards: List<Card>,
    /// Who is here: linked, with a tab open.
    pub here: Presence,
    /// The next card's id.
    pub next_id: u64,
}

impl SharedState for Board {
    fn presence(&mut self) -> Option<&mut Presence> {
        Some(&mut self.here)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub id: u64,
    pub text: String,
    pub column: Column,
}

/// The board's three columns, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Column {
    Todo,
    Doing,
    Done,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::Todo, Column::Doing, Column::Done];

    pub fn title(self) -> &'static str {
        match self {
            Column::Todo => "To do",
            Column::Doing => "Doing",
            Column::Done => "Done",
        }
    }

    /// The column a card moves on to, if any.
    pub fn next(self) -> Option<Column> {
        match self {
            Column::Todo => Some(Column::Doing),
            Column::Doing => Some(Column::Done),
            Column::Done => None,
        }
    }
}

/// The tab's own side: which room it is in, and its name there.
#[derive(Clone, Debug, Default, PartialEq, State)]
#[state(name = "seat")]
pub struct Seat {
    pub room: String,
    pub name: String,
}

pub const JOIN: HandlerId<String> = HandlerId::new("board/join");
pub const LEAVE: HandlerId<()> = HandlerId::new("board/leave");
pub const ADD_CARD: HandlerId<String> = HandlerId::new("board/add");
pub const MOVE_CARD: HandlerId<u64> = HandlerId::new("board/move");
pub const DELETE_CARD: HandlerId<u64> = HandlerId::new("board/delete");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: joining a room, and the card changes, each in the
    //! board's own lock section.

    use std::sync::atomic::{AtomicU64, Ordering};

    use anyhow::{Context, ensure};
    use stateside::{App, Cx};

    use super::*;

    /// Guests are numbered in the order they first join, per process.
    static GUESTS: AtomicU64 = AtomicU64::new(1);

    async fn join(mut seat: Cx<Seat>, room: String) -> anyhow::Result<()> {
        // The key is built here from a name the rules allow; a tab never
        // names a key itself.
        let room = room.trim().to_lowercase();
        ensure!(
            !room.is_empty()
                && room.chars().count() <= MAX_ROOM
                && room.chars().all(|c| c.is_alphanumeric() || c == '-'),
            "a room name is 1 to {MAX_ROOM} letters, digits or dashes"
        );
        if seat.name.is_empty() {
            seat.name = format!("Guest {}", GUESTS.fetch_add(1, Ordering::Relaxed));
        }
        let name = seat.name.clone();
        seat.link::<Board>(&format!("room:{room}"), name).await?;
        seat.room = room;
        Ok(())
    }

    /// A session restored from the store (a restart, or an edit under
    /// `make run`) comes back unlinked: its seat says which room to rejoin.
    async fn rejoin(mut seat: Cx<Seat>) -> anyhow::Result<()> {
        if !seat.room.is_empty() {
            let (key, name) = (format!("room:{}", seat.room), seat.name.clone());
            seat.link::<Board>(&key, name).await?;
        }
        Ok(())
    }

    async fn leave(mut seat: Cx<Seat>, (): ()) -> anyhow::Result<()> {
        seat.unlink::<Board>().await?;
        seat.room.clear();
        Ok(())
    }

    async fn add_card(mut seat: Cx<Seat>, text: String) -> anyhow::Result<()> {
        let text = text.trim().to_owned();
        ensure!(
            !text.is_empty() && text.len() <= MAX_CARD,
            "a card is 1 to {MAX_CARD} bytes"
        );
        let board = seat.shared::<Board>().await?;
        ensure!(board.cards.len() < MAX_CARDS, "the board is full");
        let id = board.next_id + 1;
        board.next_id = id;
        board.cards.push(Card {
            id,
            text,
            column: Column::Todo,
        });
        Ok(())
    }

    async fn move_card(mut seat: Cx<Seat>, id: u64) -> anyhow::Result<()> {
        let board = seat.shared::<Board>().await?;
        let index = position(board, id)?;
        board.cards.update(index, |card| {
            if let Some(next) = card.column.next() {
                card.column = next;
            }
        });
        Ok(())
    }

    async fn delete_card(mut seat: Cx<Seat>, id: u64) -> anyhow::Result<()> {
        let board = seat.shared::<Board>().await?;
        let index = position(board, id)?;
        board.cards.remove(index);
        Ok(())
    }

    fn position(board: &Board, id: u64) -> anyhow::Result<usize> {
        board
            .cards
            .iter()
            .position(|card| card.id == id)
            .context("that card is gone")
    }

    pub fn register(app: App) -> App {
        app.on(JOIN, join)
            .on_restore(rejoin)
            .on(LEAVE, leave)
            .on(ADD_CARD, add_card)
            .on(MOVE_CARD, move_card)
            .on(DELETE_CARD, delete_card)
    }
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let room = use_field(|seat: &Seat| seat.room.clone());
    view! {
        <section class="card">
            <h1>"Board"</h1>
            <p class="lead">
                "One board per room, shared by everyone in it. Open this page in another browser, \
                 join the same room, and each change shows in both at once."
            </p>
            <RoomForm />
        </section>
        <Show when=move || !room.with(String::is_empty)>
            <Here />
            <Columns />
        </Show>
    }
}

/// Joining a room, or leaving it.
#[component]
fn RoomForm() -> impl IntoView {
    let stateside = use_stateside();
    let room = use_field(|seat: &Seat| seat.room.clone());
    let draft = RwSignal::new("lobby".to_owned());
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        stateside.call(JOIN, draft.get_untracked());
    };
    view! {
        <form class="board-room" on:submit=join>
            <label for="board-room">"Room"</label>
            <input
                id="board-room"
                class="input"
                maxlength=MAX_ROOM
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button class="btn btn-primary" type="submit">"Join"</button>
            <Show when=move || !room.with(String::is_empty)>
                <button class="btn" type="button" on:click=move |_| stateside.call(LEAVE, ())>
                    "Leave"
                </button>
            </Show>
        </form>
        <p class="live" aria-live="polite">
            {move || match room.get() {
                room if room.is_empty() => "You are in no room.".to_owned(),
                room => format!("You are in room {room}."),
            }}
        </p>
    }
}

/// Who is here, with a name per tab.
#[component]
fn Here() -> impl IntoView {
    let here = use_field(|board: &Board| board.here.clone());
    let me = use_field(|seat: &Seat| seat.name.clone());
    view! {
        <section class="card" aria-labelledby="board-here">
            <h2 id="board-here">"Who is here"</h2>
            <ul class="board-here">
                <For each=move || here.get().members().to_vec() key=|member| member.id.clone() let:member>
                    <li>
                        {member.label.clone()}
                        {move || (me.get() == member.label).then_some(" (you)")}
                    </li>
                </For>
            </ul>
        </section>
    }
}

/// The add form and the three columns.
#[component]
fn Columns() -> impl IntoView {
    let stateside = use_stateside();
    let draft = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            stateside.call(ADD_CARD, text);
            draft.set(String::new());
        }
    };
    view! {
        <section class="card">
            <form class="board-add" on:submit=add>
                <label for="board-card">"New card"</label>
                <input
                    id="board-card"
                    class="input"
                    maxlength=MAX_CARD
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button class="btn btn-primary" type="submit">"Add card"</button>
            </form>
            <div class="board-columns">
                {Column::ALL.map(|column| view! { <ColumnView column /> }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn ColumnView(column: Column) -> impl IntoView {
    let stateside = use_stateside();
    let cards = use_field(move |board: &Board| {
        board
            .cards
            .iter()
            .filter(|card| card.column == column)
            .cloned()
            .collect::<Vec<_>>()
    });
    view! {
        <section class="board-column" aria-label=column.title()>
            <h3>{column.title()}</h3>
            <ul>
                <For each=move || cards.get() key=|card| (card.id, card.column) let:card>
                    <li class="board-card">
                        <span>{card.text.clone()}</span>
                        {card.column.next().map(|next| {
                            let label = format!("Move {} to {}", card.text, next.title());
                            view! {
                                <button class="btn btn-small" aria-label=label on:click=move |_| stateside.call(MOVE_CARD, card.id)>
                                    "→"
                                </button>
                            }
                        })}
                        <button
                            class="btn btn-small"
                            aria-label=format!("Delete {}", card.text)
                            on:click=move |_| stateside.call(DELETE_CARD, card.id)
                        >
                            "×"
                        </button>
                    </li>
                </For>
            </ul>
        </section>
    }
}
