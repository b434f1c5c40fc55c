//! Keeps `docs/tcp.md` true: its state diagram is the one generated from the `machine!`
//! declaration, and its (state x call) matrix names, for each cell, a test that exists:
//! a function in `tests/typestate.rs` for an allowed call, a compile-fail case in
//! `ui-tests/tests/ui/` for a forbidden one.
//!
//! Run with `UPDATE_DOCS=1` to rewrite the two generated sections instead of comparing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fsm_core::Machine;
use tcp_fsm::tcp;

/// The calls of RFC 9293 §3.10 and the states whose typed machine has each one; this is
/// the declaration's `capabilities:` list, which `tests/typestate.rs` and the ui cases
/// check from both sides.
const CALLS: &[(&str, &str, &[&str])] = &[
    ("connect", "OPEN (active)", &["Closed", "Listen"]),
    ("listen", "OPEN (passive)", &["Closed"]),
    ("send", "SEND", &["Established", "CloseWait"]),
    (
        "receive",
        "RECEIVE",
        &["Established", "FinWait1", "FinWait2", "CloseWait"],
    ),
    (
        "close",
        "CLOSE",
        &[
            "Listen",
            "SynSent",
            "SynReceived",
            "Established",
            "CloseWait",
        ],
    ),
    (
        "abort",
        "ABORT",
        &[
            "Listen",
            "SynSent",
            "SynReceived",
            "Established",
            "FinWait1",
            "FinWait2",
            "CloseWait",
            "Closing",
            "LastAck",
            "TimeWait",
        ],
    ),
    (
        "status",
        "STATUS",
        &[
            "Listen",
            "SynSent",
            "SynReceived",
            "Established",
            "FinWait1",
            "FinWait2",
            "CloseWait",
            "Closing",
            "LastAck",
            "TimeWait",
        ],
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn kebab(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if (c.is_ascii_uppercase() && !out.is_empty()) || (c.is_ascii_digit() && prev_lower) {
            out.push('-');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn matrix() -> String {
    let states: Vec<&str> = tcp::Spec::TABLE.states.iter().map(|s| s.name).collect();
    let typestate = std::fs::read_to_string(root().join("tcp-fsm/tests/typestate.rs")).unwrap();
    let mut out = String::from("| state |");
    for (_, rfc, _) in CALLS {
        write!(out, " {rfc} |").unwrap();
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(CALLS.len()));
    out.push('\n');
    for state in &states {
        write!(out, "| `{state}` |").unwrap();
        for (call, _, allowed) in CALLS {
            let cell = if allowed.contains(state) {
                let function = format!("{call}_in_{}", kebab(state).replace('-', "_"));
                assert!(
                    typestate.contains(&format!("fn {function}(")),
                    "tests/typestate.rs has no `{function}`"
                );
                format!("yes: `{function}`")
            } else {
                let case = format!("tcp-{call}-in-{}.rs", kebab(state));
                assert!(
                    root().join("ui-tests/tests/ui").join(&case).exists(),
                    "ui-tests/tests/ui/{case} is missing"
                );
                format!("no: `{case}`")
            };
            write!(out, " {cell} |").unwrap();
        }
        out.push('\n');
    }
    out
}

fn diagram() -> String {
    format!("```mermaid\n{}```\n", tcp::Spec::TABLE.mermaid())
}

/// Replaces the text between `<!-- {name}:start -->` and `<!-- {name}:end -->`.
fn splice(page: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- {name}:start -->\n");
    let end = format!("<!-- {name}:end -->");
    let a = page
        .find(&start)
        .unwrap_or_else(|| panic!("docs/tcp.md lacks {start}"))
        + start.len();
    let b = page
        .find(&end)
        .unwrap_or_else(|| panic!("docs/tcp.md lacks {end}"));
    format!("{}{}{}", &page[..a], body, &page[b..])
}

#[test]
fn docs_tcp_md_matches_the_code() {
    let path = root().join("docs/tcp.md");
    let page = std::fs::read_to_string(&path).expect("docs/tcp.md");
    let want = splice(&splice(&page, "matrix", &matrix()), "diagram", &diagram());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, want).unwrap();
        return;
    }
    assert!(
        page == want,
        "docs/tcp.md is out of date; run UPDATE_DOCS=1 cargo test -p tcp-fsm --test docs"
    );
}
