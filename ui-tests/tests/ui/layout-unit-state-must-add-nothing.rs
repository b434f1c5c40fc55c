// A unit state is a zero-sized marker, so a machine in that state is exactly its context:
// moving between unit states copies nothing. Attributes written on a state pass through
// to its type, and one that gives the marker a size or an alignment would break that
// promise, so the expansion checks the layout of every state at compile time. The check
// is a `static_assertions::const_assert!`, whose failure reads as an overflow in a
// constant of the machine's module.
fsm_core::machine! {
    pub Valve {
        context: u8,
        initial: Shut,
        states: {
            Shut,
            #[repr(align(8))]
            Open,
        },
        edges: {
            Shut + open => Open,
            Open + shut => Shut,
        },
    }
}

fn main() {}
