//! The `machine!` proc-macro behind `fsm-core`. Use it through `fsm_core::machine!`;
//! its syntax and output are documented there.
//!
//! The macro works in three steps: `parse` reads the declaration into a tree that keeps
//! spans, `model` checks it and resolves names (collecting every error), and `expand`
//! writes the code. On errors, the expansion of what was valid is emitted beside them.

mod expand;
mod model;
mod names;
mod parse;
mod template;

use std::str::FromStr;

use proc_macro::TokenStream;

/// Declares a typestate machine. Documented in `fsm_core::machine!`.
#[proc_macro]
pub fn machine(input: TokenStream) -> TokenStream {
    let decl = match parse::parse(input.into()) {
        Ok(decl) => decl,
        Err(error) => return error.to_compile_error().into(),
    };

    let mut errors = model::Errors::default();
    let model = model::check(&decl, &mut errors);
    // Without a single valid state there is nothing to generate: no machine type, no
    // initial state. The errors say why.
    let mut out = if model.states.is_empty() {
        proc_macro2::TokenStream::new()
    } else {
        expand::expand(&model, lex)
    };
    for error in errors.finish() {
        out.extend(error.to_compile_error());
    }
    out.into()
}

/// Lexes generated source with the compiler's own lexer. `proc_macro2`'s `FromStr` would
/// first run its own lexer over the text to catch errors, and that lexer is built at the
/// user's (usually unoptimized) level: for a large machine it cost more than the rest
/// of the macro together.
fn lex(source: &str) -> Option<proc_macro2::TokenStream> {
    TokenStream::from_str(source).ok().map(Into::into)
}
