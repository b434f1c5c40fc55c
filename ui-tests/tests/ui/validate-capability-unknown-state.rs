// A capability names declared states only. A misspelled state in its list would quietly
// deny the operation where it was meant to be allowed; the error is on the unknown name.
fsm_core::machine! {
    pub File {
        initial: Closed,
        states: { Closed, Open },
        edges: {
            Closed + open => Open,
            Open + close => Closed,
        },
        capabilities: {
            read: [Opened],
        },
    }
}

fn main() {}
