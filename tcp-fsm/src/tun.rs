//! The TUN driver (Linux): IPv4 packets to and from a TUN device.
//!
//! The device is opened with `IFF_TUN | IFF_NO_PI`, so each read is one bare IP packet
//! and each write sends one. Give the device an address and let the stack own another
//! one on the same subnet (say the device 10.0.0.1/24 and the stack 10.0.0.2): the
//! kernel routes to the stack's address through the device and, since no interface of
//! its own holds that address, never answers for it.
//!
//! One ioctl (`TUNSETIFF`) is needed, through `libc`; the address and link state are set
//! with the `ip` command ([`TunDevice::configure`]), which every system with TUN has.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::Command;
use std::time::Duration;

use crate::device::Device;

/// `struct ifreq` with the flags member of its union, as `TUNSETIFF` reads it.
#[repr(C)]
struct IfReqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// An open TUN device.
#[derive(Debug)]
pub struct TunDevice {
    file: File,
    name: String,
}

impl TunDevice {
    /// Creates (or attaches to) the TUN device `name`. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    ///
    /// The system error when `/dev/net/tun` cannot be opened or the ioctl fails.
    pub fn open(name: &str) -> io::Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "interface name must be 1 to 15 bytes",
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        let mut req = IfReqFlags {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
            _pad: [0; 22],
        };
        for (dst, src) in req.name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        // SAFETY: `req` is a live, properly laid out `ifreq` for the duration of the call,
        // and TUNSETIFF reads and writes only within it.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TunDevice {
            file,
            name: name.to_owned(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gives the device `addr/prefix`, sets its MTU and brings it up, with `ip`.
    ///
    /// # Errors
    ///
    /// When `ip` cannot be run or reports a failure.
    pub fn configure(&self, addr: Ipv4Addr, prefix: u8, mtu: u16) -> io::Result<()> {
        let cidr = format!("{addr}/{prefix}");
        run_ip(&["addr", "add", &cidr, "dev", &self.name])?;
        run_ip(&[
            "link",
            "set",
            "dev",
            &self.name,
            "mtu",
            &mtu.to_string(),
            "up",
        ])
    }
}

fn run_ip(args: &[&str]) -> io::Result<()> {
    let output = Command::new("ip").args(args).output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Waits until `fd` is readable or `timeout` passes.
pub(crate) fn wait_readable(fd: libc::c_int, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd, and its count, for the duration of the call.
    let rc = unsafe { libc::poll(&mut pfd, 1, millis) };
    match rc {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

impl Device for TunDevice {
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match (&self.file).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn send(&self, packet: &[u8]) -> io::Result<()> {
        match (&self.file).write(packet) {
            Ok(_) => Ok(()),
            // A full device queue is a loss like any other; TCP will retransmit.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        wait_readable(self.file.as_raw_fd(), timeout)
    }
}

/// Moves the calling thread into the network namespace `name` (made with `ip netns add`).
/// Threads it spawns afterwards start in that namespace too.
///
/// # Errors
///
/// When the namespace does not exist or `setns` is refused.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let path = format!("/var/run/netns/{name}");
    let ns = File::open(&path)?;
    // SAFETY: `ns` is an open namespace file for the duration of the call.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
