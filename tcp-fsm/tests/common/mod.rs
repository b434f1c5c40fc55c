//! What the tests against the Linux kernel share: deciding whether they can run here, and
//! running the `ip`, `nft` and `ethtool` commands that set up their namespaces.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Why a test that needs root, these commands and (if `needs_tun`) `/dev/net/tun`
/// cannot run on this machine, if it cannot.
fn missing(tools: &[&str], needs_tun: bool) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if needs_tun && !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    // `ip -V`, `nft --version` and `ethtool --version` all print a version and exit 0.
    tools
        .iter()
        .find(|tool| {
            let flag = if **tool == "ip" { "-V" } else { "--version" };
            Command::new(tool).arg(flag).output().is_err()
        })
        .map(|tool| format!("the `{tool}` command is not installed"))
}

/// Whether `test` may run: true when everything it needs is here. When something is
/// missing it fails in CI (the `CI` variable is set), where `.ci/setup-net.sh` should
/// have provided it, and elsewhere prints why and returns false.
pub fn may_run(test: &str, tools: &[&str], needs_tun: bool) -> bool {
    match missing(tools, needs_tun) {
        None => true,
        Some(reason) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run in CI: {reason}; .ci/setup-net.sh should provide it")
        }
        Some(reason) => {
            eprintln!("skipping {test}: {reason}");
            false
        }
    }
}

/// Runs a command that must succeed, and returns what it printed.
pub fn sh(args: &[&str]) -> String {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A suffix no other namespace of this machine's test runs has: the process id and a
/// counter, so that tests running at once, in one process or several, never collide.
pub fn unique_suffix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
