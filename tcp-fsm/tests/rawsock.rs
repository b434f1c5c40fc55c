//! The raw IPv4 socket driver against the Linux kernel, through a veth pair between two
//! network namespaces: our stack shares the address of one end with that namespace's
//! kernel, whose RSTs for our ports an nftables rule drops (while ours, marked with
//! `SO_MARK`, pass). The kernel in the other namespace connects to our listener, and our
//! stream connects to its listener; 4 MiB go each way and SHA-256 digests are compared.
//!
//! Needs root, `ip`, `nft` and `ethtool`: in CI a missing one fails the test, elsewhere it
//! is skipped with the reason printed.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::process::Command;
use std::time::Duration;

use common::sh;
use sha2::{Digest, Sha256};
use tcp_fsm::link::SplitMix64;
use tcp_fsm::tun::enter_netns;
use tcp_fsm::{Config, NetStack, RawSocket, RstFilter, Stack, TcpListener, TcpStream};

const OURS: Ipv4Addr = Ipv4Addr::new(10, 88, 0, 2);
const KERNEL: Ipv4Addr = Ipv4Addr::new(10, 88, 0, 1);
const SIZE: usize = 4 << 20;

fn may_run(test: &str) -> bool {
    common::may_run(test, &["ip", "nft", "ethtool"], false)
}

/// Two namespaces joined by a veth pair, deleted on drop.
struct Pair {
    ours: String,
    kernel: String,
}

impl Pair {
    fn new() -> Self {
        let n = common::unique_suffix();
        let pair = Pair {
            ours: format!("tcpraw-a-{n}"),
            kernel: format!("tcpraw-b-{n}"),
        };
        let (a, b) = (pair.ours.as_str(), pair.kernel.as_str());
        sh(&["ip", "netns", "add", a]);
        sh(&["ip", "netns", "add", b]);
        sh(&[
            "ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b,
        ]);
        for (ns, dev, addr) in [(a, "va", OURS), (b, "vb", KERNEL)] {
            sh(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                dev,
            ]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            // Partial checksums from TX offload would fail our checksum check.
            sh(&["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off"]);
        }
        pair
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for ns in [&self.ours, &self.kernel] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn payload(seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    (0..SIZE / 8)
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .collect()
}

/// Sends `out` and reads everything on both ends at once, then compares digests.
fn exchange(ours: TcpStream, kernel: std::net::TcpStream) {
    let (to_kernel, to_us) = (payload(3), payload(4));
    let want = (Sha256::digest(&to_kernel), Sha256::digest(&to_us));
    let (our_reader, kernel_reader) = (ours.clone(), kernel.try_clone().unwrap());
    let reads_ours = std::thread::spawn(move || {
        let mut got = Vec::new();
        (&our_reader).read_to_end(&mut got).map(|_| got)
    });
    let reads_kernel = std::thread::spawn(move || {
        let mut got = Vec::new();
        (&kernel_reader).read_to_end(&mut got).map(|_| got)
    });
    let writer = ours.clone();
    let writes_ours = std::thread::spawn(move || {
        (&writer).write_all(&to_kernel).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    (&kernel).write_all(&to_us).unwrap();
    kernel.shutdown(Shutdown::Write).unwrap();
    writes_ours.join().unwrap();
    let got_us = reads_ours.join().unwrap().expect("our read");
    let got_kernel = reads_kernel.join().unwrap().expect("kernel read");
    assert_eq!(got_us.len(), SIZE);
    assert_eq!(got_kernel.len(), SIZE);
    assert_eq!(
        Sha256::digest(&got_kernel),
        want.0,
        "what the kernel received"
    );
    assert_eq!(Sha256::digest(&got_us), want.1, "what we received");
}

#[test]
fn raw_socket_interoperates_through_veth() {
    if !may_run("raw_socket_interoperates_through_veth") {
        return;
    }
    let pair = Pair::new();
    let (ours_ns, kernel_ns) = (pair.ours.clone(), pair.kernel.clone());
    // The kernel's side: a listener, and (on request) a connection to our listener.
    let kernel_side = std::thread::spawn(move || {
        enter_netns(&kernel_ns).unwrap();
        std::net::TcpListener::bind((KERNEL, 7001)).unwrap()
    });
    let kernel_listener = kernel_side.join().unwrap();
    let kernel_ns = pair.kernel.clone();
    let ours = std::thread::spawn(move || {
        enter_netns(&ours_ns).unwrap();
        let filter = RstFilter::install("tcpfsm_rst", OURS, "7000, 61000-65535").unwrap();
        let mut stack = Stack::new(
            OURS,
            Config {
                rto_min: Duration::from_millis(200),
                time_wait: Duration::from_secs(1),
                ..Config::default()
            },
            *b"raw-socket-test!",
        );
        stack.set_ephemeral_ports(61000, 65535);
        stack.set_exclusive(false);
        let net = NetStack::new(stack, RawSocket::open().unwrap());

        // The kernel connects to our listener.
        let listener = TcpListener::bind(&net, 7000, 4).unwrap();
        let connecting = std::thread::spawn(move || {
            enter_netns(&kernel_ns).unwrap();
            std::net::TcpStream::connect((OURS, 7000)).expect("kernel connects to us")
        });
        let (accepted, _) = listener.accept().unwrap();
        exchange(accepted, connecting.join().unwrap());

        // Our stream connects to the kernel's listener.
        let stream = TcpStream::connect(&net, SocketAddrV4::new(KERNEL, 7001)).expect("connect");
        let (kernel_end, _) = kernel_listener.accept().unwrap();
        exchange(stream, kernel_end);

        let listing = sh(&["nft", "list", "table", "ip", "tcpfsm_rst"]);
        drop(net);
        drop(filter);
        listing
    });
    let listing = ours.join().unwrap();
    // The kernel answered at least our listener's SYN with a RST, which the rule dropped.
    let dropped: u64 = listing
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(dropped > 0, "the RST rule dropped nothing:\n{listing}");
    drop(pair);
}
