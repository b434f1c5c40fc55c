//! Every (state, call) pair that RFC 9293 §3.10 allows compiles: one function per pair,
//! named `<call>_in_<state>`. The pairs it forbids are the compile-fail cases
//! `ui-tests/tests/ui/tcp-<call>-in-<state>.rs`; `docs/tcp.md` lists both, and
//! `tests/docs.rs` checks that each cell of its matrix names a case that exists.

#![allow(dead_code)]

use tcp_fsm::{Instant, Tcp, tcp};

fn connect_in_closed(conn: Tcp<tcp::Closed>) {
    let remote = "10.0.0.2:80".parse().unwrap();
    let _ = conn.connect(remote, Instant::ZERO);
}

fn connect_in_listen(conn: Tcp<tcp::Listen>) {
    let remote = "10.0.0.2:80".parse().unwrap();
    let _ = conn.connect(remote, Instant::ZERO);
}

fn listen_in_closed(conn: Tcp<tcp::Closed>) {
    let _ = conn.listen();
}

fn send_in_established(mut conn: Tcp<tcp::Established>) {
    conn.send(b"data");
}

fn send_in_close_wait(mut conn: Tcp<tcp::CloseWait>) {
    conn.send(b"data");
}

fn receive_in_established(mut conn: Tcp<tcp::Established>) {
    let mut buf = [0u8; 64];
    conn.receive(&mut buf);
}

fn receive_in_fin_wait_1(mut conn: Tcp<tcp::FinWait1>) {
    let mut buf = [0u8; 64];
    conn.receive(&mut buf);
}

fn receive_in_fin_wait_2(mut conn: Tcp<tcp::FinWait2>) {
    let mut buf = [0u8; 64];
    conn.receive(&mut buf);
}

fn receive_in_close_wait(mut conn: Tcp<tcp::CloseWait>) {
    let mut buf = [0u8; 64];
    conn.receive(&mut buf);
}

fn close_in_listen(conn: Tcp<tcp::Listen>) {
    let _ = conn.close();
}

fn close_in_syn_sent(conn: Tcp<tcp::SynSent>) {
    let _ = conn.close();
}

fn close_in_syn_received(conn: Tcp<tcp::SynReceived>) {
    let _ = conn.close();
}

fn close_in_established(conn: Tcp<tcp::Established>) {
    let _ = conn.close();
}

fn close_in_close_wait(conn: Tcp<tcp::CloseWait>) {
    let _ = conn.close();
}

fn abort_in_listen(conn: Tcp<tcp::Listen>) {
    let _ = conn.abort();
}

fn abort_in_syn_sent(conn: Tcp<tcp::SynSent>) {
    let _ = conn.abort();
}

fn abort_in_syn_received(conn: Tcp<tcp::SynReceived>) {
    let _ = conn.abort();
}

fn abort_in_established(conn: Tcp<tcp::Established>) {
    let _ = conn.abort();
}

fn abort_in_fin_wait_1(conn: Tcp<tcp::FinWait1>) {
    let _ = conn.abort();
}

fn abort_in_fin_wait_2(conn: Tcp<tcp::FinWait2>) {
    let _ = conn.abort();
}

fn abort_in_close_wait(conn: Tcp<tcp::CloseWait>) {
    let _ = conn.abort();
}

fn abort_in_closing(conn: Tcp<tcp::Closing>) {
    let _ = conn.abort();
}

fn abort_in_last_ack(conn: Tcp<tcp::LastAck>) {
    let _ = conn.abort();
}

fn abort_in_time_wait(conn: Tcp<tcp::TimeWait>) {
    let _ = conn.abort();
}

fn status_in_listen(conn: Tcp<tcp::Listen>) {
    let _ = conn.status();
}

fn status_in_syn_sent(conn: Tcp<tcp::SynSent>) {
    let _ = conn.status();
}

fn status_in_syn_received(conn: Tcp<tcp::SynReceived>) {
    let _ = conn.status();
}

fn status_in_established(conn: Tcp<tcp::Established>) {
    let _ = conn.status();
}

fn status_in_fin_wait_1(conn: Tcp<tcp::FinWait1>) {
    let _ = conn.status();
}

fn status_in_fin_wait_2(conn: Tcp<tcp::FinWait2>) {
    let _ = conn.status();
}

fn status_in_close_wait(conn: Tcp<tcp::CloseWait>) {
    let _ = conn.status();
}

fn status_in_closing(conn: Tcp<tcp::Closing>) {
    let _ = conn.status();
}

fn status_in_last_ack(conn: Tcp<tcp::LastAck>) {
    let _ = conn.status();
}

fn status_in_time_wait(conn: Tcp<tcp::TimeWait>) {
    let _ = conn.status();
}

/// The calls that can be reached from outside the crate by typed moves alone run too.
#[test]
fn typed_calls_run() {
    let local = "10.0.0.1:80".parse().unwrap();
    let closed = Tcp::new(
        tcp_fsm::Tcb::new(tcp_fsm::Config::default(), local, 1),
        tcp::Closed,
    );
    let listen = closed.listen();
    assert_eq!(listen.status().state, tcp::StateId::Listen);
    let syn_sent = listen.connect("10.0.0.2:80".parse().unwrap(), Instant::ZERO);
    assert_eq!(syn_sent.status().state, tcp::StateId::SynSent);
    let closed: Tcp<tcp::Closed> = syn_sent.close();
    let aborted = closed.listen().abort();
    assert_eq!(aborted.state_id(), tcp::StateId::Closed);
}
