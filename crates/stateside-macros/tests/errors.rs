//! The derive's errors, exactly as a user sees them: each says what to
//! write instead. `TRYBUILD=overwrite cargo test -p stateside-macros`
//! rewrites the expected output after a deliberate change.

#[test]
fn misuse_gets_an_error_that_says_what_to_do() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
