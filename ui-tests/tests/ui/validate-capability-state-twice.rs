// A capability lists each state once. A repeat is a slip, probably for a state that was
// meant to be listed and is not; the error is on the repeat.
fsm_core::machine! {
    pub File {
        initial: Closed,
        states: { Closed, Open, Appending },
        edges: {
            Closed + open => Open,
            Open + append => Appending,
            Open | Appending + close => Closed,
        },
        capabilities: {
            write: [Open, Open],
        },
    }
}

fn main() {}
