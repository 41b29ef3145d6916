//! What [`Cx`](crate::Cx) and [`Guard`](crate::Guard) do with shared
//! states: link, unlink, and lock one into the section. Written once here,
//! like the section itself, so a handler and a task behave alike.

use std::sync::Arc;

use stateside_wire::{Member, SharedState};

use crate::{call::Host, error::Error, lock::Held, section::Section, shared::SharedCell};

/// Links the session to `T`'s state for `key`, leaving any other key of
/// `T` it was linked to.
pub(crate) async fn link<T: SharedState + Send + Sync>(
    host: &dyn Host,
    section: &mut Section,
    handler: &'static str,
    key: &str,
    label: String,
) -> Result<(), Error> {
    let links = host.links();
    if let Some(linked) = links.get(T::NAME) {
        if linked.key() == key {
            return Ok(());
        }
        leave(host, section, handler, &linked).await?;
    }
    loop {
        let states = host.shared_states();
        let cell = states.open::<T>(key).await?;
        let held = section.shared.lock(&cell, handler).await?;
        let member = Member {
            id: links.id().to_owned(),
            label: label.clone(),
        };
        cell.link(held, host.linked(), member);
        // A cell freed while this waited for its lock is no one's: leave
        // it, and link to the one that is held for the key now.
        if states.is_current(&cell) {
            links.insert(cell);
            return Ok(());
        }
        cell.unlink(held_again(section, &cell), links.id());
    }
}

/// Unlinks the session from `T`; false if it was not linked.
pub(crate) async fn unlink<T: SharedState + Send + Sync>(
    host: &dyn Host,
    section: &mut Section,
    handler: &'static str,
) -> Result<bool, Error> {
    let Some(cell) = host.links().get(T::NAME) else {
        return Ok(false);
    };
    leave(host, section, handler, &cell).await?;
    Ok(true)
}

/// `T`'s linked state, locked into the section.
pub(crate) async fn shared_mut<'s, T: SharedState + Send + Sync>(
    host: &dyn Host,
    section: &'s mut Section,
    handler: &'static str,
) -> Result<&'s mut T, Error> {
    let cell = host
        .links()
        .get(T::NAME)
        .ok_or(Error::NotLinked { state: T::NAME })?;
    let states = section.shared.lock(&cell, handler).await?;
    Ok(states.get_mut::<T>())
}

async fn leave(
    host: &dyn Host,
    section: &mut Section,
    handler: &'static str,
    cell: &Arc<SharedCell>,
) -> Result<(), Error> {
    let held = section.shared.lock(cell, handler).await?;
    cell.unlink(held, host.links().id());
    host.links().remove(cell.name());
    if !cell.is_linked() {
        host.shared_states().release_when_idle(cell);
    }
    Ok(())
}

fn held_again<'s>(section: &'s mut Section, cell: &Arc<SharedCell>) -> &'s mut Held {
    section
        .shared
        .holding(cell)
        .expect("the section took this cell's lock")
}
