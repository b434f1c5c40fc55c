// A capability is declared once. Each one becomes a trait in the machine's `cap` module,
// and two lists for the same operation would make two traits of one name.
fsm_core::machine! {
    pub File {
        initial: Closed,
        states: { Closed, Open },
        edges: {
            Closed + open => Open,
            Open + close => Closed,
        },
        capabilities: {
            read: [Open],
            read: [Closed],
        },
    }
}

fn main() {}
