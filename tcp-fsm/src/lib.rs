//! A userspace TCP (RFC 9293) whose connection states are typestates.
//!
//! The eleven RFC 9293 states are declared once with [`fsm_core::machine!`] (see
//! [`machine`]). A [`Tcp<S>`] has only the user calls RFC 9293 §3.10 allows in `S`, so
//! sending before the handshake or after CLOSE does not compile; the engine keeps the same
//! machine at run time and moves it only along declared edges.
//!
//! Layers, from the wire up:
//!
//! - [`wire`]: segments over IPv4, parsed with `etherparse` (the payload borrowed from
//!   the packet, both checksums verified) and built by hand; malformed input is a typed
//!   [`WireError`], logged at debug level and dropped.
//! - [`tcb`], [`engine`]: the sans-I/O [`Connection`]: segments, user calls and `now` in,
//!   segments out. Handshake (with simultaneous open), in-order delivery and out-of-order
//!   reassembly, flow control and zero-window probes, MSS and window scale, RFC 6298
//!   retransmission with Karn's rule, fast retransmit, every close order, TIME-WAIT,
//!   RFC 9293 §3.10.7 RSTs, RFC 5961 challenge ACKs, RFC 6528 ISNs ([`isn`]).
//! - [`stack`]: many connections on one address, with bounded listen backlogs.
//! - [`link`]: an in-memory link with seeded faults, and a two-stack [`Network`] on
//!   virtual time.
//! - [`tun`], [`rawsock`], [`socket`]: a TUN driver and a raw IPv4 socket driver
//!   (Linux), and blocking [`TcpListener`] / [`TcpStream`] with `std::io::Read` and
//!   `Write`.
//!
//! `docs/tcp.md` in the repository has the state diagram, the (state x call) matrix
//! with the test of each cell, and the architecture.
//!
//! # Example: two stacks over the in-memory link
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use tcp_fsm::{Config, LinkConfig, Network, Stack};
//!
//! let server_addr = Ipv4Addr::new(10, 0, 0, 2);
//! let client = Stack::new(Ipv4Addr::new(10, 0, 0, 1), Config::default(), [1; 16]);
//! let mut server = Stack::new(server_addr, Config::default(), [2; 16]);
//! server.listen(80, 8).unwrap();
//! let mut net = Network::new(client, server, LinkConfig::default(), 42);
//!
//! let conn = net.a.connect(SocketAddrV4::new(server_addr, 80), net.now).unwrap();
//! while net.b.accept(80).is_none() {
//!     net.step();
//! }
//! net.a.send(conn, b"hello").unwrap();
//! for _ in 0..10 {
//!     net.step();
//! }
//! assert_eq!(net.b.connection_count(), 1);
//! ```
//!
//! # Typestate: calls exist only where the RFC allows them
//!
//! ```compile_fail
//! use tcp_fsm::{Config, Tcb, Tcp, tcp};
//! let local = "10.0.0.1:80".parse().unwrap();
//! let mut closed = Tcp::new(Tcb::new(Config::default(), local, 1), tcp::Closed);
//! closed.send(b"too early"); // `Tcp` cannot `send` in state `Closed`
//! ```
//!
//! # Limits
//!
//! - Each payload byte is copied three times inside the stack (into the send buffer,
//!   into the packet, into the receive buffer); see `docs/tcp.md`.
//! - IPv4 only, no IP fragment reassembly.
//! - Not implemented: SACK, timestamps and PAWS, Nagle's algorithm, delayed ACKs,
//!   keep-alive, urgent data, RFC 5961 §5 ACK-range checks and §7 rate limiting, a
//!   FIN-WAIT-2 timer, reopening from TIME-WAIT on a new SYN (RFC 6191), data on SYNs.
//! - SEND and RECEIVE before the handshake (which RFC 9293 queues) are refused.
//! - RSTs in TIME-WAIT are ignored (RFC 1337).

#![deny(missing_docs)]

mod checksum;
pub mod device;
pub mod engine;
pub mod isn;
pub mod link;
pub mod machine;
#[cfg(target_os = "linux")]
pub mod rawsock;
pub mod seq;
pub mod socket;
pub mod stack;
pub mod tcb;
pub mod time;
#[cfg(target_os = "linux")]
pub mod tun;
pub mod wire;

pub use device::Device;
pub use engine::{CallError, Connection, reset_for};
pub use isn::IsnGenerator;
pub use link::{Link, LinkConfig, Network};
pub use machine::{Tcp, tcp};
#[cfg(target_os = "linux")]
pub use rawsock::{RawSocket, RstFilter};
pub use socket::{NetStack, TcpListener, TcpStream};
pub use stack::{ConnId, DropCounts, Stack, StackError};
pub use tcb::{Config, ConnError, Status, Tcb};
pub use time::Instant;
#[cfg(target_os = "linux")]
pub use tun::TunDevice;
pub use wire::{Flags, PacketQueue, Segment, WireError};
