//! Interoperation with the Linux kernel's TCP over a TUN device, each test in a fresh
//! network namespace.
//!
//! The kernel connects to our listener and our stream connects to a kernel listener;
//! 20 MiB go each way at once and SHA-256 digests are compared; the connections close in
//! both orders. The lossy variants add an nftables rule that drops 5% of the kernel's
//! outgoing segments at random.
//!
//! These tests need root, `/dev/net/tun`, `ip` and (for the lossy ones) `nft`. When the
//! `CI` environment variable is set and one is missing they fail, saying which; outside
//! CI they print why and pass without running.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::process::Command;
use std::time::Duration;

use common::sh;
use sha2::{Digest, Sha256};
use tcp_fsm::link::SplitMix64;
use tcp_fsm::tcp::StateId;
use tcp_fsm::{Config, NetStack, Stack, TcpListener, TcpStream, TunDevice};

const MIB: usize = 1 << 20;
const TRANSFER: usize = 20 * MIB;
const DEVICE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const STACK_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const TUN_NAME: &str = "tcpfsm0";

/// Fails in CI, skips elsewhere, when a resource is missing; true when the test may run.
fn may_run(test: &str, needs_nft: bool) -> bool {
    let tools: &[&str] = if needs_nft { &["ip", "nft"] } else { &["ip"] };
    common::may_run(test, tools, true)
}

/// A network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("tcpfsm-{}", common::unique_suffix());
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs `body` on a thread inside a fresh namespace with the TUN device up and our stack
/// on it; `lossy` adds the 5% drop rule on the kernel's output to the device.
fn in_namespace(lossy: bool, body: impl FnOnce(&NetStack) + Send + 'static) {
    let ns = Netns::new();
    let name = ns.0.clone();
    let worker = std::thread::spawn(move || {
        tcp_fsm::tun::enter_netns(&name).expect("setns into the test namespace");
        let tun = TunDevice::open(TUN_NAME).expect("open the TUN device");
        tun.configure(DEVICE_ADDR, 24, 1500)
            .expect("configure the TUN device");
        // IPv6 router solicitations would only be noise on the device.
        let _ = Command::new("sysctl")
            .args(["-qw", &format!("net.ipv6.conf.{TUN_NAME}.disable_ipv6=1")])
            .status();
        if lossy {
            let rule = format!(
                "add table inet lossy\n\
                 add chain inet lossy out {{ type filter hook output priority 0; }}\n\
                 add rule inet lossy out oifname \"{TUN_NAME}\" numgen random mod 100 < 5 counter drop\n"
            );
            std::fs::write(format!("/tmp/{name}.nft"), rule).unwrap();
            sh(&["nft", "-f", &format!("/tmp/{name}.nft")]);
        }
        let cfg = Config {
            // Linux's own minimum RTO; the RFC's 1 s would only slow the lossy runs.
            rto_min: Duration::from_millis(200),
            rto_initial: Duration::from_millis(500),
            time_wait: Duration::from_secs(2),
            ..Config::default()
        };
        let stack = Stack::new(STACK_ADDR, cfg, *b"kernel-interop-k");
        let net = NetStack::new(stack, tun);
        body(&net);
        drop(net);
        if lossy {
            let dropped = dropped_by_nft();
            eprintln!("nftables dropped {dropped} of the kernel's packets");
            assert!(
                dropped > 0,
                "the 5% drop rule dropped nothing: the lossy run proves nothing"
            );
        }
        let _ = std::fs::remove_file(format!("/tmp/{name}.nft"));
    });
    let result = worker.join();
    drop(ns);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// The packet count of the drop rule's counter, read in the current namespace.
fn dropped_by_nft() -> u64 {
    let output = Command::new("nft")
        .args(["list", "chain", "inet", "lossy", "out"])
        .output()
        .expect("nft list");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .skip_while(|word| *word != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn payload(seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let mut data = Vec::with_capacity(TRANSFER);
    while data.len() < TRANSFER {
        data.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    data
}

fn digest(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Writes `data` in uneven pieces, then shuts down writing.
fn send_all(mut w: impl Write, data: &[u8], shutdown: impl FnOnce()) {
    let mut rng = SplitMix64::new(data.len() as u64);
    let mut at = 0;
    while at < data.len() {
        let end = (at + 1 + rng.below(256 * 1024) as usize).min(data.len());
        w.write_all(&data[at..end]).expect("write");
        at = end;
    }
    shutdown();
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::with_capacity(TRANSFER);
    r.read_to_end(&mut out).expect("read to the end");
    out
}

/// Both directions at once over a connected pair; `ours_first` says whose FIN goes out
/// first. Returns after comparing digests.
fn exchange(ours: TcpStream, kernel: std::net::TcpStream, ours_first: bool) {
    let to_kernel = payload(1);
    let to_us = payload(2);
    let (want_kernel, want_us) = (digest(&to_kernel), digest(&to_us));
    let kernel_reader = kernel.try_clone().unwrap();
    let kernel_writer = kernel.try_clone().unwrap();
    let our_reader = ours.clone();
    let our_writer = ours.clone();

    let kernel_reads = std::thread::spawn(move || read_all(&kernel_reader));
    let our_reads = std::thread::spawn(move || read_all(&our_reader));
    // Whoever closes second waits until the first has sent its FIN.
    let (ours_done, ours_closed) = std::sync::mpsc::channel::<()>();
    let (kernel_done, kernel_closed) = std::sync::mpsc::channel::<()>();
    let our_writes = std::thread::spawn(move || {
        send_all(&our_writer, &to_kernel, || {
            if !ours_first {
                let _ = kernel_closed.recv();
            }
            our_writer.shutdown(Shutdown::Write).unwrap();
            let _ = ours_done.send(());
        });
    });
    send_all(&kernel_writer, &to_us, || {
        if ours_first {
            let _ = ours_closed.recv();
        }
        kernel_writer.shutdown(Shutdown::Write).unwrap();
        let _ = kernel_done.send(());
    });
    our_writes.join().expect("our writer");
    let got_kernel = kernel_reads.join().expect("kernel reader");
    let got_us = our_reads.join().expect("our reader");
    assert_eq!(got_kernel.len(), TRANSFER, "bytes the kernel received");
    assert_eq!(got_us.len(), TRANSFER, "bytes we received");
    assert_eq!(
        digest(&got_kernel),
        want_kernel,
        "SHA-256 of what the kernel received"
    );
    assert_eq!(digest(&got_us), want_us, "SHA-256 of what we received");
    drop(kernel);
    // Our side must finish its close: through LAST-ACK or TIME-WAIT to CLOSED.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !matches!(ours.state(), StateId::Closed | StateId::TimeWait) {
        assert!(
            std::time::Instant::now() < deadline,
            "stuck in {:?}",
            ours.state()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kernel_connects_to_our_listener(lossy: bool) {
    in_namespace(lossy, |net| {
        let listener = TcpListener::bind(net, 7000, 8).unwrap();
        let kernel = std::net::TcpStream::connect((STACK_ADDR, 7000)).expect("kernel connect");
        let (ours, peer) = listener.accept().unwrap();
        assert_eq!(
            peer,
            kernel
                .local_addr()
                .map(|a| match a {
                    std::net::SocketAddr::V4(v4) => v4,
                    other => panic!("not IPv4: {other}"),
                })
                .unwrap()
        );
        // The kernel closes first here.
        exchange(ours, kernel, false);
    });
}

fn our_stream_connects_to_kernel_listener(lossy: bool) {
    in_namespace(lossy, |net| {
        let listener = std::net::TcpListener::bind((DEVICE_ADDR, 7001)).unwrap();
        let ours = TcpStream::connect(net, SocketAddrV4::new(DEVICE_ADDR, 7001)).expect("connect");
        let (kernel, _) = listener.accept().unwrap();
        // We close first here.
        exchange(ours, kernel, true);
    });
}

#[test]
fn kernel_connects_to_us_20_mib_each_way() {
    if may_run("kernel_connects_to_us_20_mib_each_way", false) {
        kernel_connects_to_our_listener(false);
    }
}

#[test]
fn we_connect_to_the_kernel_20_mib_each_way() {
    if may_run("we_connect_to_the_kernel_20_mib_each_way", false) {
        our_stream_connects_to_kernel_listener(false);
    }
}

#[test]
fn kernel_connects_to_us_with_5_percent_loss() {
    if may_run("kernel_connects_to_us_with_5_percent_loss", true) {
        kernel_connects_to_our_listener(true);
    }
}

#[test]
fn we_connect_to_the_kernel_with_5_percent_loss() {
    if may_run("we_connect_to_the_kernel_with_5_percent_loss", true) {
        our_stream_connects_to_kernel_listener(true);
    }
}

/// The kernel's connect to a port nobody listens on is refused with our RST
/// (RFC 9293 §3.10.7.1).
#[test]
fn kernel_connect_to_a_closed_port_is_refused() {
    if may_run("kernel_connect_to_a_closed_port_is_refused", false) {
        in_namespace(false, |_net| {
            let err = std::net::TcpStream::connect((STACK_ADDR, 7999)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        });
    }
}
