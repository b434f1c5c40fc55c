//! Diagrams: the Mermaid in a machine's rustdoc is the one fsm-core renders from its table.

use fsm_core::{Machine, machine};

machine! {
    /// A connection in the style of TCP, with a final state.
    pub Connection {
        initial: Closed,
        final: Done,
        states: { Closed, SynSent, Established, FinWait, Done },
        edges: {
            Closed + open => SynSent,
            SynSent + syn_ack => Established,
            Established + close => FinWait,
            FinWait + ack => Closed,
            Closed + destroy => Done,
        },
    }
}

#[test]
fn the_macro_and_the_table_render_the_same_mermaid() {
    assert_eq!(
        connection::Spec::MERMAID,
        connection::Spec::TABLE.mermaid().to_string()
    );
}

#[test]
fn mermaid_marks_the_initial_and_final_states() {
    let text = connection::Spec::TABLE.mermaid().to_string();
    assert!(text.starts_with("stateDiagram-v2\n    [*] --> Closed\n"));
    assert!(text.contains("    SynSent --> Established: syn_ack\n"));
    assert!(text.ends_with("    Done --> [*]\n"));
}

#[test]
fn dot_is_a_digraph_with_one_line_per_edge() {
    let text = connection::Spec::TABLE.dot().to_string();
    assert!(text.starts_with("digraph Connection {\n"));
    assert!(text.contains("    Done [shape=doublecircle];\n"));
    assert!(text.contains("    __start -> Closed;\n"));
    assert!(text.contains("    Established -> FinWait [label=\"close\"];\n"));
    assert_eq!(text.matches(" -> ").count(), 5 + 1);
    assert!(text.ends_with("}\n"));
}
