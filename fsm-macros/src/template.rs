//! Token templates, for the items the macro writes once per edge or per event.
//!
//! A template is Rust source lexed once, with some identifiers marked as holes. Each item
//! is a copy of its tokens with the holes filled and every token of the template's own
//! given the item's span, which is what `quote_spanned!` produces. The difference is the
//! cost: `quote_spanned!` makes every identifier of every item anew from a string, and a
//! proc-macro runs at its user's optimisation level, usually none. For a machine with
//! hundreds of edges that was most of the macro's run; a copy only clones handles.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};

/// Lexed source with holes; see the module docs.
pub(crate) struct Template(Vec<Node>);

enum Node {
    /// A token other than a group.
    Token(TokenTree),
    Group(Delimiter, Vec<Node>),
    /// Filled with the fill of this index.
    Hole(usize),
}

impl Template {
    /// The template of `tokens`, in which each identifier `holes[i]` is hole `i`.
    pub(crate) fn new(tokens: TokenStream, holes: &[&str]) -> Template {
        Template(nodes(tokens, holes))
    }

    /// Appends to `out` a copy of the template with `fills[i]` in hole `i` and `span` on
    /// the template's own tokens; filled tokens keep their spans.
    pub(crate) fn stamp(&self, span: Span, fills: &[&[TokenTree]], out: &mut Vec<TokenTree>) {
        stamp(&self.0, span, fills, out);
    }
}

fn nodes(tokens: TokenStream, holes: &[&str]) -> Vec<Node> {
    let node = |tree: TokenTree| match tree {
        TokenTree::Group(group) => Node::Group(group.delimiter(), nodes(group.stream(), holes)),
        TokenTree::Ident(ident) => {
            let name = ident.to_string();
            match holes.iter().position(|hole| *hole == name) {
                Some(index) => Node::Hole(index),
                None => Node::Token(TokenTree::Ident(ident)),
            }
        }
        tree => Node::Token(tree),
    };
    tokens.into_iter().map(node).collect()
}

fn stamp(nodes: &[Node], span: Span, fills: &[&[TokenTree]], out: &mut Vec<TokenTree>) {
    for node in nodes {
        match node {
            Node::Token(tree) => {
                let mut tree = tree.clone();
                tree.set_span(span);
                out.push(tree);
            }
            Node::Group(delimiter, inner) => {
                let mut tokens = Vec::new();
                stamp(inner, span, fills, &mut tokens);
                let mut group = Group::new(*delimiter, tokens.into_iter().collect());
                group.set_span(span);
                out.push(TokenTree::Group(group));
            }
            Node::Hole(index) => out.extend(fills[*index].iter().cloned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_filled_and_groups_kept() {
        let template = Template::new(
            "impl Edge<event::NAME> for FROM { type To = (TO); }"
                .parse()
                .unwrap(),
            &["NAME", "FROM", "TO"],
        );
        let fill = |text: &str| text.parse::<TokenStream>().unwrap().into_iter().collect();
        let (name, from, to): (Vec<_>, Vec<_>, Vec<_>) =
            (fill("open"), fill("Closed"), fill("a::B"));
        let mut out = Vec::new();
        template.stamp(Span::call_site(), &[&name, &from, &to], &mut out);

        let stamped: TokenStream = out.into_iter().collect();
        assert_eq!(
            stamped.to_string(),
            "impl Edge < event :: open > for Closed { type To = (a :: B) ; }"
        );
    }
}
