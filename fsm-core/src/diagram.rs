//! Renderings of a transition table: Mermaid `stateDiagram-v2` and Graphviz DOT.
//!
//! Both are [`Display`](core::fmt::Display) adapters that write straight into the
//! formatter, so they need no allocation. `machine!` embeds the same Mermaid text in the
//! machine's rustdoc; a test in this crate keeps the two renderers in agreement.

use core::fmt;

use crate::machine::Table;

/// A [`Table`] rendered as a Mermaid `stateDiagram-v2`; see [`Table::mermaid`].
#[derive(Debug, Clone, Copy)]
pub struct Mermaid<'a>(&'a Table);

/// A [`Table`] rendered as a Graphviz `digraph`; see [`Table::dot`].
#[derive(Debug, Clone, Copy)]
pub struct Dot<'a>(&'a Table);

impl Table {
    /// The table as a Mermaid state diagram: `[*]` points at the initial state and final
    /// states point at `[*]`.
    ///
    /// ```
    /// fsm_core::machine! {
    ///     pub Lamp {
    ///         initial: Off,
    ///         states: { Off, On },
    ///         edges: { Off + switch_on => On, On + switch_off => Off },
    ///     }
    /// }
    ///
    /// use fsm_core::Machine;
    /// assert_eq!(
    ///     lamp::Spec::TABLE.mermaid().to_string(),
    ///     "stateDiagram-v2\n    [*] --> Off\n    Off --> On: switch_on\n    On --> Off: switch_off\n"
    /// );
    /// ```
    pub fn mermaid(&self) -> Mermaid<'_> {
        Mermaid(self)
    }

    /// The table as a Graphviz DOT `digraph`, ready for `dot -Tsvg`.
    pub fn dot(&self) -> Dot<'_> {
        Dot(self)
    }
}

impl fmt::Display for Mermaid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.0;
        writeln!(f, "stateDiagram-v2")?;
        writeln!(f, "    [*] --> {}", table.state_name(table.initial))?;
        for edge in table.edges {
            let from = table.state_name(edge.from);
            let to = table.state_name(edge.to);
            writeln!(f, "    {from} --> {to}: {}", table.event_name(edge.event))?;
        }
        for state in table.states.iter().filter(|state| state.is_final) {
            writeln!(f, "    {} --> [*]", state.name)?;
        }
        Ok(())
    }
}

impl fmt::Display for Dot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.0;
        writeln!(f, "digraph {} {{", table.machine)?;
        writeln!(f, "    rankdir=LR;")?;
        writeln!(f, "    __start [shape=point];")?;
        for state in table.states {
            let shape = if state.is_final {
                "doublecircle"
            } else {
                "circle"
            };
            writeln!(f, "    {} [shape={shape}];", state.name)?;
        }
        writeln!(f, "    __start -> {};", table.state_name(table.initial))?;
        for edge in table.edges {
            let from = table.state_name(edge.from);
            let to = table.state_name(edge.to);
            writeln!(
                f,
                "    {from} -> {to} [label=\"{}\"];",
                table.event_name(edge.event)
            )?;
        }
        writeln!(f, "}}")
    }
}
