// A declaration has a fixed set of keys. An unknown one, here `event` for `edges`, is
// most likely a typo that would otherwise be ignored, so it is an error that lists the
// keys there are.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        event: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
