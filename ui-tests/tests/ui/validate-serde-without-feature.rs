// `serde: true` needs fsm-core's `serde` feature. The run-time enum's `Serialize` and
// `Deserialize` come from serde, so without the feature the declaration is an error that
// says which feature to turn on, instead of failing inside generated code.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        serde: true,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
