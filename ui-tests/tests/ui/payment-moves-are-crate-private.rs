// Moves declared `transitions: pub(crate)` cannot be made from another crate. `Payment`
// lets other crates move it only through its checked methods (`authorize_amount` checks
// the card's limit), so calling the generated `authorize` directly does not compile.
use ui_tests::{Payment, payment};

fn main() {
    let pending = Payment::new(100, payment::Pending);
    pending.authorize(payment::Authorized { amount: 1_000_000 });
}
