// A state may not take a name the machine's module already uses (`Runtime`, `Event`,
// `StateId`, `EventId`, `Spec`, `Edge`, or the machine's own name): the state's type
// would collide with the generated item.
fsm_core::machine! {
    pub Task {
        initial: Waiting,
        states: { Waiting, Runtime },
        edges: {
            Waiting + run => Runtime,
            Runtime + yield_now => Waiting,
        },
    }
}

fn main() {}
