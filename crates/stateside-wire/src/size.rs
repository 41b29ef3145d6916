//! Byte sizes of values as JSON, for budgets.

/// The size of `value` as compact JSON, counted without keeping the text;
/// 0 for a value that does not serialise.
pub fn json_size(value: &impl serde::Serialize) -> usize {
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
    // A counter never fails to write; a value that fails counts what it wrote.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}
