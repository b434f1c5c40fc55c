//! The tcp-fsm part of the demonstration: two userspace TCP stacks exchange data over
//! an in-memory link that loses, duplicates and reorders packets, on virtual time. No
//! root and no network are needed, and the output is the same on every run.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use tcp_fsm::tcp::StateId;
use tcp_fsm::{Config, LinkConfig, Network, Stack};

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;
const SIZE: usize = 256 * 1024;

/// Runs this part of the demonstration.
pub fn run() {
    println!(
        "\n== tcp-fsm: {} KiB over a link with 5% loss, 2% duplication, 5% reordering",
        SIZE / 1024
    );
    let cfg = Config {
        time_wait: Duration::from_secs(1),
        rto_min: Duration::from_millis(200),
        ..Config::default()
    };
    let client = Stack::new(CLIENT, cfg.clone(), [1; 16]);
    let mut server = Stack::new(SERVER, cfg, [2; 16]);
    if let Err(e) = server.listen(PORT, 4) {
        println!("listen failed: {e}");
        return;
    }
    let link = LinkConfig {
        delay: Duration::from_millis(10),
        loss: 0.05,
        duplicate: 0.02,
        reorder: 0.05,
        ..LinkConfig::default()
    };
    let mut net = Network::new(client, server, link, 2026);
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
    let Ok(conn) = net.a.connect(SocketAddrV4::new(SERVER, PORT), net.now) else {
        println!("connect failed");
        return;
    };
    let (mut sent, mut received, mut closed) = (0, Vec::new(), false);
    let mut accepted = None;
    let mut buf = [0u8; 8192];
    while net.now < tcp_fsm::Instant::from_millis(120_000) {
        accepted = accepted.or_else(|| net.b.accept(PORT));
        if sent < data.len() {
            sent += net.a.send(conn, &data[sent..]).unwrap_or(0);
        } else if !closed {
            closed = net.a.close(conn).is_ok();
        }
        if let Some(id) = accepted {
            while let Ok(n @ 1..) = net.b.recv(id, &mut buf) {
                received.extend_from_slice(&buf[..n]);
            }
            let peer_done = net.b.connection(id).is_some_and(|c| c.tcb().peer_closed());
            if peer_done && received.len() == data.len() {
                let _ = net.b.close(id);
            }
        }
        let done = net
            .a
            .connection(conn)
            .is_some_and(|c| c.state() == StateId::Closed);
        if done || (!net.step() && sent == data.len() && closed) {
            break;
        }
    }
    let state = net.a.connection(conn).map(|c| c.state());
    println!(
        "received {} of {} bytes, {}; link lost {} packets; {:.1} s of virtual time; client now {:?}",
        received.len(),
        data.len(),
        if received == data {
            "identical"
        } else {
            "DIFFERENT"
        },
        net.a_to_b.lost + net.b_to_a.lost,
        net.now.as_micros() as f64 / 1e6,
        state.unwrap_or(StateId::Closed),
    );
}
