//! Byte budgets: what one session may cost in memory is bounded in bytes,
//! not only in counts (`Config::max_state_bytes`,
//! `Config::replay_ring_bytes`), so a tab that sends large values cannot
//! make an innocent-looking count limit expensive.

/// The size of `value` as compact JSON, counted without keeping the text.
pub(crate) fn json_size(value: &impl serde::Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and the value serialised already.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}
