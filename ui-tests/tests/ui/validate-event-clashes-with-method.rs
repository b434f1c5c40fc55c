// Each event becomes a method of the machine, so an event may not take the name of a
// method the machine already has (`new`, `state`, `context`, `transition`, ...). A
// `new` event would collide with the constructor.
fsm_core::machine! {
    pub Game {
        initial: Playing,
        states: { Playing, Over },
        edges: {
            Playing + lose => Over,
            Over + new => Playing,
        },
    }
}

fn main() {}
