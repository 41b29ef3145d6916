//! A session's side of its links: the shared states it is linked to, and
//! the public id others see it by.

use std::sync::{Arc, Mutex};

use super::SharedCell;
use crate::mutex::lock;

/// The shared states one session is linked to, one per state type.
pub(crate) struct SessionLinks {
    /// Random, and not derived from the token: presence shows it to others.
    id: String,
    cells: Mutex<Vec<Arc<SharedCell>>>,
}

impl SessionLinks {
    pub(crate) fn new() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        Self {
            id: format!("{:016x}", u64::from_le_bytes(bytes)),
            cells: Mutex::default(),
        }
    }

    /// The id other sessions see this one by, in presence.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The cell of the state `name` this session is linked to.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<SharedCell>> {
        lock(&self.cells)
            .iter()
            .find(|cell| cell.name() == name)
            .cloned()
    }

    pub(crate) fn insert(&self, cell: Arc<SharedCell>) {
        let mut cells = lock(&self.cells);
        cells.retain(|held| held.name() != cell.name());
        cells.push(cell);
    }

    pub(crate) fn remove(&self, name: &str) -> Option<Arc<SharedCell>> {
        let mut cells = lock(&self.cells);
        let index = cells.iter().position(|cell| cell.name() == name)?;
        Some(cells.remove(index))
    }

    /// Every linked cell.
    pub(crate) fn all(&self) -> Vec<Arc<SharedCell>> {
        lock(&self.cells).clone()
    }
}
