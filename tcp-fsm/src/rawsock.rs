//! The raw IPv4 socket driver (Linux): the stack shares the host's own address, sending
//! whole IP packets through a `SOCK_RAW` socket with `IP_HDRINCL` and receiving copies of
//! every TCP packet the host gets.
//!
//! The host kernel sees the same segments and knows none of the stack's connections, so
//! it answers them with RSTs that would tear the connections down. The remedy, set up by
//! [`RstFilter`]: an nftables rule in the output hook drops RSTs from the stack's address
//! and ports, unless they carry the firewall mark this socket puts on its own packets
//! (`SO_MARK`), so the stack's own RSTs still pass. Give the stack a port range the kernel
//! does not use ([`Stack::set_ephemeral_ports`](crate::Stack::set_ephemeral_ports)) and
//! make it ignore the kernel's ports ([`Stack::set_exclusive`](crate::Stack::set_exclusive)).
//!
//! Over veth, TX checksum offload leaves partial checksums in packets a raw socket sees;
//! turn it off on the device (`ethtool -K <dev> tx off`), or every segment fails the
//! checksum and is dropped.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::Duration;

use crate::device::Device;
use crate::tun::wait_readable;

/// The firewall mark on the stack's own packets, which the RST rule lets through.
pub const MARK: u32 = 0x7cf;

/// A raw IPv4 socket carrying the stack's TCP packets.
#[derive(Debug)]
pub struct RawSocket {
    fd: OwnedFd,
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn set_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to a live c_int with its exact size.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

impl RawSocket {
    /// Opens the socket (needs `CAP_NET_RAW`, and `CAP_NET_ADMIN` for the mark).
    ///
    /// # Errors
    ///
    /// The system error from `socket` or `setsockopt`.
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = check(unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::IPPROTO_TCP,
            )
        })?;
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        set_int(&fd, libc::IPPROTO_IP, libc::IP_HDRINCL, 1)?;
        set_int(&fd, libc::SOL_SOCKET, libc::SO_MARK, MARK as libc::c_int)?;
        // A raw socket gets a copy of every TCP packet of the host; the default buffer
        // overflows under a bulk transfer, and each overflow is a loss. Forcing a larger
        // one needs CAP_NET_ADMIN, which the mark needed already.
        let _ = set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20);
        Ok(RawSocket { fd })
    }
}

impl Device for RawSocket {
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: `buf` is valid for writes of its length for the duration of the call.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(err),
            };
        }
        Ok(Some(n as usize))
    }

    fn send(&self, packet: &[u8]) -> io::Result<()> {
        if packet.len() < 20 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "short IPv4 packet",
            ));
        }
        let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(dst.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: `packet` and `addr` are live and their lengths are passed with them.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&addr as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            // A full socket buffer is a loss like any other; TCP will retransmit.
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
        }
        Ok(())
    }

    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        wait_readable(self.fd.as_raw_fd(), timeout)
    }
}

/// The nftables table that drops the kernel's RSTs for the stack's ports; deleted on drop.
#[derive(Debug)]
pub struct RstFilter {
    table: String,
}

impl RstFilter {
    /// Installs table `table` (family `ip`) dropping RSTs from `addr` with a source port
    /// in `ports` (nft syntax, such as `7000, 61000-65535`) that lack [`MARK`].
    ///
    /// # Errors
    ///
    /// When `nft` cannot be run or refuses the rule.
    pub fn install(table: &str, addr: Ipv4Addr, ports: &str) -> io::Result<Self> {
        let script = format!(
            "add table ip {table}\n\
             add chain ip {table} out {{ type filter hook output priority 0; }}\n\
             add rule ip {table} out ip saddr {addr} tcp sport {{ {ports} }} \
             tcp flags & rst == rst meta mark != {MARK:#x} counter drop\n"
        );
        nft(&script)?;
        Ok(RstFilter {
            table: table.to_owned(),
        })
    }
}

impl Drop for RstFilter {
    fn drop(&mut self) {
        let _ = nft(&format!("delete table ip {}\n", self.table));
    }
}

fn nft(script: &str) -> io::Result<()> {
    use std::io::Write;
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "nft: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
