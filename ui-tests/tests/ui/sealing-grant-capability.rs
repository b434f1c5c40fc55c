// Capabilities are fixed by the declaration. Another crate cannot implement a capability
// trait for a state that lacks it, so knocking cannot be granted to an open door from
// outside `machine!`.
use ui_tests::door;

impl door::cap::CanKnock for door::Open {}

fn main() {}
