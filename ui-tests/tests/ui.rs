//! Runs every case: each `tests/ui/*.rs` must fail to compile with exactly the errors in
//! the `.stderr` file beside it, and each `tests/pass/*.rs` must compile and run.
//!
//! After a deliberate change to the macro's messages (or a new compiler), regenerate the
//! `.stderr` files with `TRYBUILD=overwrite cargo test -p ui-tests --test ui`, read every
//! changed one, and then refresh `docs/compile-fail.md` as `tests/docs.rs` explains.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
