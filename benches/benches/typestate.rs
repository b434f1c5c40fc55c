//! Typestate transitions (work in progress).
fn main() {}
