//! The shared states a lock section holds, in the order that keeps
//! sections from deadlocking.

use std::sync::Arc;

use super::SharedCell;
use crate::{error::Error, lock::Held};

/// The shared locks a section took, in ascending (name, key) order.
#[derive(Default)]
pub(crate) struct SharedSections {
    held: Vec<(Arc<SharedCell>, Held)>,
}

impl SharedSections {
    /// The states of `cell` under its lock: taken now if this section does
    /// not hold it yet.
    ///
    /// # Errors
    ///
    /// [`Error::SharedLockOrder`] if the section holds a shared state that
    /// sorts after this one: taking the locks in one order everywhere is
    /// what makes waiting for them safe.
    pub(crate) async fn lock(
        &mut self,
        cell: &Arc<SharedCell>,
        handler: &'static str,
    ) -> Result<&mut Held, Error> {
        if let Some(index) = self
            .held
            .iter()
            .position(|(held, _)| Arc::ptr_eq(held, cell))
        {
            return Ok(&mut self.held[index].1);
        }
        if let Some((last, _)) = self.held.last()
            && (last.name(), last.key()) > (cell.name(), cell.key())
        {
            return Err(Error::SharedLockOrder {
                held: format!("{}/{}", last.name(), last.key()),
                asked: format!("{}/{}", cell.name(), cell.key()),
            });
        }
        let states = cell.lock.acquire(handler).await;
        self.held.push((Arc::clone(cell), states));
        Ok(&mut self.held.last_mut().expect("just pushed").1)
    }

    /// The states of `cell`, if this section holds its lock.
    pub(crate) fn holding(&mut self, cell: &Arc<SharedCell>) -> Option<&mut Held> {
        self.held
            .iter_mut()
            .find(|(held, _)| Arc::ptr_eq(held, cell))
            .map(|(_, states)| states)
    }

    /// Ends the shared part of a section, keeping the locks: publishes
    /// each shared state's changes if the session's part was published,
    /// else rolls them back with it.
    pub(crate) fn settle(&mut self, published: bool) {
        for (cell, states) in &mut self.held {
            if !published {
                states.rollback();
            } else if let Err(error) = cell.commit(states) {
                tracing::warn!(state = cell.name(), %error, "a shared state's changes were rolled back");
            }
        }
    }
}
