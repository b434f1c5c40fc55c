//! What a driver needs from a packet device: send and receive whole IPv4 packets, and
//! wait for one to arrive.

use std::io;
use std::time::Duration;

/// A device that carries whole IPv4 packets (a TUN device, a raw socket, ...).
pub trait Device: Send + Sync {
    /// Reads one packet into `buf` without blocking; `Ok(None)` when none is waiting.
    ///
    /// # Errors
    ///
    /// The device's error.
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// Sends one packet.
    ///
    /// # Errors
    ///
    /// The device's error.
    fn send(&self, packet: &[u8]) -> io::Result<()>;

    /// Blocks until a packet may be read or `timeout` passes; returns whether one may.
    ///
    /// # Errors
    ///
    /// The device's error.
    fn wait(&self, timeout: Duration) -> io::Result<bool>;
}
