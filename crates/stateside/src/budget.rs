//! Byte budgets: what one session may cost in memory is bounded in bytes,
//! not only in counts (`Config::max_state_bytes`,
//! `Config::replay_ring_bytes`), so a tab that sends large values cannot
//! make an innocent-looking count limit expensive.

pub(crate) use stateside_wire::json_size;
