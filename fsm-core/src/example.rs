//! An example machine, declared here so that its generated items can be browsed.
//!
//! Everything below `door` and [`Door`] was written by [`machine!`](crate::machine) from
//! this declaration; this module exists only in the documentation.
//!
//! ```text
//! machine! {
//!     /// A door that can be locked with a code and, once demolished, is gone for good.
//!     pub Door {
//!         context: u32,
//!         initial: Closed,
//!         final: Gone,
//!         states: {
//!             Open,
//!             Closed,
//!             /// Locked with a code that `unlock` must match.
//!             Locked {
//!                 /// The code.
//!                 code: u16,
//!             },
//!             Gone,
//!         },
//!         edges: {
//!             Closed + open => Open,
//!             Open + close => Closed,
//!             Closed + lock => Locked,
//!             /// Only with the right code.
//!             Locked + unlock => Closed,
//!             Open | Closed + demolish => Gone,
//!         },
//!         capabilities: {
//!             /// Knocking makes sense only on a shut door.
//!             knock: [Closed, Locked],
//!         },
//!     }
//! }
//! ```

crate::machine! {
    /// A door that can be locked with a code and, once demolished, is gone for good.
    pub Door {
        context: u32,
        initial: Closed,
        final: Gone,
        states: {
            Open,
            Closed,
            /// Locked with a code that `unlock` must match.
            Locked {
                /// The code.
                code: u16,
            },
            Gone,
        },
        edges: {
            Closed + open => Open,
            Open + close => Closed,
            Closed + lock => Locked,
            /// Only with the right code.
            Locked + unlock => Closed,
            Open | Closed + demolish => Gone,
        },
        capabilities: {
            /// Knocking makes sense only on a shut door.
            knock: [Closed, Locked],
        },
    }
}
