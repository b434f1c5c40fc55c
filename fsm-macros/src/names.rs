//! Identifier spelling: the module, variant and trait names derived from declared names.

use proc_macro2::{Ident, Span};

/// The identifier as written, without a leading `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// `switch_on` to `SwitchOn`; an already camel-cased name is kept.
pub(crate) fn upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split('_').filter(|part| !part.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// `TcpConnection` to `tcp_connection`, `HTTPServer` to `http_server`.
pub(crate) fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A new identifier spelled `name`, with the span of `like`.
pub(crate) fn ident(name: &str, like: Span) -> Ident {
    Ident::new(name, like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_snake_round_the_usual_names() {
        assert_eq!(upper_camel("switch_on"), "SwitchOn");
        assert_eq!(upper_camel("open"), "Open");
        assert_eq!(upper_camel("Open"), "Open");
        assert_eq!(snake("TcpConnection"), "tcp_connection");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("Door"), "door");
        assert_eq!(snake("Raft2Node"), "raft2_node");
    }
}
