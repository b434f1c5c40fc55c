//! Measures TCP throughput between tcp-fsm and the Linux kernel over a TUN device, and
//! kernel-to-kernel TCP over a veth pair, at MTU 1500 (Linux, run as root).
//!
//! ```sh
//! cargo build --release -p tcp-fsm --example throughput
//! sudo target/release/examples/throughput --mib 256 --mode all
//! ```
//!
//! `benches/tun-throughput.sh` runs this and prints a Markdown table.
//!
//! Modes (`--mode`, default `all`):
//!
//! - `tun`: a fresh network namespace holds the TUN device `tput0` with 10.77.0.1/24;
//!   the stack owns 10.77.0.2. First our stream sends to a kernel `std::net` listener,
//!   then the kernel sends to our listener, one direction at a time.
//! - `veth`: two fresh namespaces joined by a veth pair (10.78.0.1/24 and 10.78.0.2/24,
//!   MTU 1500); a `std::net` stream in one sends to a `std::net` listener in the other.
//!   The kernel's offloads (TSO, GSO, GRO) stay as the kernel set them unless
//!   `--veth-offloads off`, since that is what kernel-to-kernel TCP normally gets.
//!
//! The amount is `--mib N` or `THROUGHPUT_MIB` (default 256). The clock starts at the
//! sender's first write, after the handshake, and stops when the receiver reads the
//! end of the stream, so the close of the sending side is included and the handshake is
//! not. The stream repeats a pseudo-random pattern with an odd period (1 MiB + 13
//! bytes), out of step with the 1460-byte segments and the writes; the receiver compares
//! every byte with it and checks the count, so a transfer that loses, duplicates or
//! reorders data fails instead of looking fast.
//!
//! Each result is one line, `LABEL: bytes=.. mib=.. seconds=.. gbit_s=.. verified=yes`,
//! followed by a `LABEL: note: ..` line: over TUN a kernel counter that shows loss in
//! that direction (its retransmissions, or the segments of ours it queued out of
//! order), over veth whether offloads were on. Namespaces are deleted on exit, on
//! error, on SIGINT, SIGTERM or SIGHUP, and when the run exceeds `--timeout` (300 s).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4};
use std::process::Command;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tcp_fsm::link::SplitMix64;
use tcp_fsm::{Config, NetStack, Stack, TcpListener, TcpStream, TunDevice};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const MIB: u64 = 1 << 20;
const DEFAULT_MIB: u64 = 256;
const MTU: u16 = 1500;

const TUN_NAME: &str = "tput0";
const TUN_DEVICE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const TUN_STACK_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const VETH_A: &str = "tput-a";
const VETH_B: &str = "tput-b";
const VETH_A_ADDR: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 1);
const VETH_B_ADDR: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 2);
const PORT: u16 = 5001;

/// Bytes per write and per read: large enough that system calls and lock round trips
/// are not what is measured.
const CHUNK: usize = 128 * 1024;
/// The pattern's period: odd, so no MSS or chunk size divides it, and a segment placed
/// at the wrong offset compares unequal.
const PERIOD: usize = (1 << 20) + 13;

/// Labels of the result lines; `benches/tun-throughput.sh` looks for exactly these.
const OURS_TO_KERNEL: &str = "tcp-fsm -> kernel (TUN)";
const KERNEL_TO_OURS: &str = "kernel -> tcp-fsm (TUN)";
const KERNEL_TO_KERNEL: &str = "kernel -> kernel (veth)";

/// Namespaces this process made and has not yet deleted, so that the signal thread can
/// delete them too.
static NAMESPACES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn namespaces() -> std::sync::MutexGuard<'static, Vec<String>> {
    // A panic elsewhere must not keep the namespaces from being cleaned up.
    NAMESPACES.lock().unwrap_or_else(|e| e.into_inner())
}

/// A network namespace made with `ip netns add`, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(suffix: &str) -> Result<Self> {
        let name = format!("tput-{}-{suffix}", std::process::id());
        // Registered before it exists, so that a signal in between still deletes it.
        namespaces().push(name.clone());
        let ns = Netns(name);
        run(&["ip", "netns", "add", &ns.0])?;
        run(&["ip", "-n", &ns.0, "link", "set", "lo", "up"])?;
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        delete_netns(&self.0);
        namespaces().retain(|n| *n != self.0);
    }
}

fn delete_netns(name: &str) {
    // Quietly: the namespace may never have been created.
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stderr(std::process::Stdio::null())
        .status();
}

/// Runs a command and turns a failure into an error that names it.
fn run(args: &[&str]) -> Result<()> {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into())
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP in every thread (threads inherit the mask, so this
/// runs first) and takes them on one thread that deletes the namespaces and exits;
/// otherwise Ctrl-C would leave the namespaces behind. The same thread ends a run that
/// takes longer than `limit`, so that a stalled transfer fails instead of hanging the
/// script. `std::process::Command` clears the mask in its children.
fn watch_signals_and_time(limit: Duration) -> Result<()> {
    // SAFETY: `set` is a local sigset_t, initialised by sigemptyset before any other use.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        set
    };
    // SAFETY: `set` is a valid signal set; the old mask is not wanted.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(format!("pthread_sigmask: {}", io::Error::from_raw_os_error(rc)).into());
    }
    let deadline = Instant::now() + limit;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let code = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let timeout = libc::timespec {
                    tv_sec: left.as_secs() as libc::time_t,
                    tv_nsec: left.subsec_nanos() as libc::c_long,
                };
                // SAFETY: `set` and `timeout` are valid for the call; no siginfo wanted.
                let signal = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
                if signal > 0 {
                    eprintln!("throughput: signal {signal}, deleting namespaces");
                    break 128 + signal;
                }
                if Instant::now() >= deadline {
                    eprintln!(
                        "throughput: still running after {} s (a stalled transfer?), \
                         deleting namespaces",
                        limit.as_secs()
                    );
                    break 1;
                }
                // EINTR: wait again for what is left.
            };
            for name in namespaces().iter() {
                delete_netns(name);
            }
            std::process::exit(code);
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

/// What one transfer measured.
struct Measurement {
    bytes: u64,
    seconds: f64,
}

impl Measurement {
    fn print(&self, label: &str) {
        let gbit_s = self.bytes as f64 * 8.0 / self.seconds / 1e9;
        println!(
            "{label}: bytes={} mib={} seconds={:.3} gbit_s={gbit_s:.3} verified=yes",
            self.bytes,
            self.bytes / MIB,
            self.seconds
        );
    }
}

/// One period of pseudo-random bytes, followed by its first `CHUNK` bytes again so that
/// any `CHUNK`-long window starting inside the period is one slice.
fn pattern() -> Vec<u8> {
    let mut rng = SplitMix64::new(0x7470_7574);
    let mut data = Vec::with_capacity(PERIOD + CHUNK + 8);
    while data.len() < PERIOD {
        data.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    data.truncate(PERIOD);
    data.extend_from_within(..CHUNK);
    data
}

/// Writes `total` bytes of the pattern; returns when the first byte was written.
fn send_pattern(mut w: impl Write, pattern: &[u8], total: u64) -> io::Result<Instant> {
    let mut start = None;
    let mut sent = 0u64;
    while sent < total {
        let at = (sent % PERIOD as u64) as usize;
        let len = CHUNK.min((total - sent) as usize);
        let n = w.write(&pattern[at..at + len])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the stream took 0 bytes",
            ));
        }
        start.get_or_insert_with(Instant::now);
        sent += n as u64;
    }
    Ok(start.unwrap_or_else(Instant::now))
}

/// Reads to the end of the stream, comparing every byte with the pattern; returns the
/// count and when the end was seen.
fn receive_pattern(mut r: impl Read, pattern: &[u8], total: u64) -> io::Result<(u64, Instant)> {
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok((received, Instant::now())),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if received + n as u64 > total {
            return Err(io::Error::other(format!(
                "received more than the {total} bytes sent"
            )));
        }
        let at = (received % PERIOD as u64) as usize;
        if buf[..n] != pattern[at..at + n] {
            let first = buf[..n]
                .iter()
                .zip(&pattern[at..])
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(io::Error::other(format!(
                "wrong data at byte {}",
                received + first as u64
            )));
        }
        received += n as u64;
    }
}

/// Runs `send` on a thread of its own and `receive` here; the time is from the first
/// write to the end of the stream at the receiver.
fn timed(
    total: u64,
    pattern: &[u8],
    send: impl FnOnce(&[u8]) -> io::Result<Instant> + Send,
    receive: impl FnOnce(&[u8]) -> io::Result<(u64, Instant)>,
) -> Result<Measurement> {
    let (start, (bytes, end)) = std::thread::scope(|s| {
        let sender = s.spawn(|| send(pattern));
        let received = receive(pattern).map_err(|e| format!("receiver: {e}"));
        let started = sender
            .join()
            .map_err(|_| "the sending thread panicked".to_string())?
            .map_err(|e| format!("sender: {e}"));
        Ok::<_, String>((started?, received?))
    })?;
    if bytes != total {
        return Err(format!("received {bytes} bytes, {total} were sent").into());
    }
    Ok(Measurement {
        bytes,
        seconds: end.saturating_duration_since(start).as_secs_f64(),
    })
}

/// A counter of the kernel's TCP in the calling thread's namespace, from
/// `/proc/net/snmp` (`Tcp:` lines) or `/proc/net/netstat` (`TcpExt:` lines).
fn kernel_counter(file: &str, prefix: &str, name: &str) -> Option<u64> {
    // thread-self, not self: /proc/self/net is the main thread's namespace.
    let text = std::fs::read_to_string(format!("/proc/thread-self/net/{file}")).ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with(prefix));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names.split_whitespace().position(|n| n == name)?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// The kernel counter that shows loss in one direction: its own retransmissions when it
/// sends, the segments it had to queue out of order when it receives (ours being lost).
#[derive(Clone, Copy)]
enum LossSign {
    KernelRetransmits,
    KernelOutOfOrder,
}

impl LossSign {
    fn read(self) -> Option<u64> {
        match self {
            LossSign::KernelRetransmits => kernel_counter("snmp", "Tcp:", "RetransSegs"),
            LossSign::KernelOutOfOrder => kernel_counter("netstat", "TcpExt:", "TCPOFOQueue"),
        }
    }

    fn note(self, label: &str, before: Option<u64>) {
        let what = match self {
            LossSign::KernelRetransmits => "segments the kernel retransmitted",
            LossSign::KernelOutOfOrder => "segments the kernel queued out of order",
        };
        if let (Some(before), Some(after)) = (before, self.read()) {
            println!("{label}: note: {what}: {}", after.saturating_sub(before));
        }
    }
}

/// Enters `ns` on this thread, so that sockets and child processes made here use it.
fn enter(ns: &str) -> Result<()> {
    tcp_fsm::tun::enter_netns(ns).map_err(|e| format!("setns into {ns}: {e}").into())
}

/// Our stack on a TUN device, against the kernel in the same namespace.
fn tun(total: u64, pattern: &[u8]) -> Result<()> {
    let ns = Netns::new("tun")?;
    // A thread of its own enters the namespace, so the main thread stays where it was.
    std::thread::scope(|s| {
        s.spawn(|| -> Result<()> {
            enter(&ns.0)?;
            let tun = TunDevice::open(TUN_NAME).map_err(|e| format!("open TUN device: {e}"))?;
            tun.configure(TUN_DEVICE_ADDR, 24, MTU)
                .map_err(|e| format!("configure TUN device: {e}"))?;
            // IPv6 router solicitations would only be noise on the device.
            let _ = run(&[
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.{TUN_NAME}.disable_ipv6=1"),
            ]);
            let cfg = Config {
                // Linux's minimum RTO, as in tests/kernel.rs: a full device queue can drop
                // a segment, and the RFC's 1 s stall would then dominate the time.
                rto_min: Duration::from_millis(200),
                rto_initial: Duration::from_millis(500),
                time_wait: Duration::from_secs(2),
                ..Config::default()
            };
            let net = NetStack::new(Stack::new(TUN_STACK_ADDR, cfg, *b"tcp-fsm-tput-key"), tun);
            ours_to_kernel(&net, total, pattern)?;
            kernel_to_ours(&net, total, pattern)
        })
        .join()
        .map_err(|_| "the TUN thread panicked")?
    })
}

fn ours_to_kernel(net: &NetStack, total: u64, pattern: &[u8]) -> Result<()> {
    let listener = std::net::TcpListener::bind((TUN_DEVICE_ADDR, PORT))
        .map_err(|e| format!("kernel listener on {TUN_DEVICE_ADDR}:{PORT}: {e}"))?;
    let ours = TcpStream::connect(net, SocketAddrV4::new(TUN_DEVICE_ADDR, PORT))
        .map_err(|e| format!("our connect to the kernel: {e}"))?;
    let (kernel, _) = listener
        .accept()
        .map_err(|e| format!("kernel accept: {e}"))?;
    let before = LossSign::KernelOutOfOrder.read();
    let m = timed(
        total,
        pattern,
        |p| {
            let start = send_pattern(&ours, p, total)?;
            ours.shutdown(Shutdown::Write)?;
            Ok(start)
        },
        |p| receive_pattern(&kernel, p, total),
    )?;
    m.print(OURS_TO_KERNEL);
    LossSign::KernelOutOfOrder.note(OURS_TO_KERNEL, before);
    Ok(())
}

fn kernel_to_ours(net: &NetStack, total: u64, pattern: &[u8]) -> Result<()> {
    let listener =
        TcpListener::bind(net, PORT, 1).map_err(|e| format!("our listener on {PORT}: {e}"))?;
    let kernel = std::net::TcpStream::connect((TUN_STACK_ADDR, PORT))
        .map_err(|e| format!("kernel connect to {TUN_STACK_ADDR}:{PORT}: {e}"))?;
    let (ours, _) = listener.accept().map_err(|e| format!("our accept: {e}"))?;
    let before = LossSign::KernelRetransmits.read();
    let m = timed(
        total,
        pattern,
        |p| {
            let start = send_pattern(&kernel, p, total)?;
            kernel.shutdown(Shutdown::Write)?;
            Ok(start)
        },
        |p| receive_pattern(&ours, p, total),
    )?;
    m.print(KERNEL_TO_OURS);
    LossSign::KernelRetransmits.note(KERNEL_TO_OURS, before);
    Ok(())
}

/// Kernel to kernel over a veth pair between two namespaces.
fn veth(total: u64, pattern: &[u8], offloads: bool) -> Result<()> {
    let a = Netns::new("a")?;
    let b = Netns::new("b")?;
    let mtu = MTU.to_string();
    run(&[
        "ip", "-n", &a.0, "link", "add", VETH_A, "mtu", &mtu, "type", "veth", "peer", "name",
        VETH_B, "mtu", &mtu, "netns", &b.0,
    ])?;
    for (ns, dev, addr) in [(&a.0, VETH_A, VETH_A_ADDR), (&b.0, VETH_B, VETH_B_ADDR)] {
        run(&[
            "ip",
            "-n",
            ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            dev,
        ])?;
        run(&["ip", "-n", ns, "link", "set", "dev", dev, "up"])?;
        if !offloads {
            run(&[
                "ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro",
                "off",
            ])?;
        }
    }
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (ns_a, ns_b) = (&a.0, &b.0);
    let (start, (bytes, end)) = std::thread::scope(|s| -> Result<_> {
        let receiver = s.spawn(move || -> Result<(u64, Instant)> {
            enter(ns_b)?;
            let listener = std::net::TcpListener::bind((VETH_B_ADDR, PORT))
                .map_err(|e| format!("listener in {ns_b}: {e}"))?;
            let _ = ready_tx.send(());
            let (stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
            Ok(receive_pattern(&stream, pattern, total).map_err(|e| format!("receiver: {e}"))?)
        });
        let sender = s.spawn(move || -> Result<Instant> {
            enter(ns_a)?;
            ready_rx.recv().map_err(|_| "the listener did not start")?;
            let stream = std::net::TcpStream::connect((VETH_B_ADDR, PORT))
                .map_err(|e| format!("connect from {ns_a}: {e}"))?;
            let start =
                send_pattern(&stream, pattern, total).map_err(|e| format!("sender: {e}"))?;
            stream.shutdown(Shutdown::Write)?;
            Ok(start)
        });
        let started = sender.join().map_err(|_| "the sending thread panicked")?;
        let received = receiver
            .join()
            .map_err(|_| "the receiving thread panicked")?;
        Ok((started?, received?))
    })?;
    if bytes != total {
        return Err(format!("received {bytes} bytes, {total} were sent").into());
    }
    Measurement {
        bytes,
        seconds: end.saturating_duration_since(start).as_secs_f64(),
    }
    .print(KERNEL_TO_KERNEL);
    let offloads = if offloads {
        "on, as the kernel sets them"
    } else {
        "off"
    };
    println!("{KERNEL_TO_KERNEL}: note: TSO, GSO and GRO {offloads}");
    Ok(())
}

struct Options {
    mib: u64,
    tun: bool,
    veth: bool,
    veth_offloads: bool,
    /// Seconds the whole run may take.
    timeout: u64,
}

const USAGE: &str = "usage: throughput [--mib N] [--mode tun|veth|all] \
                     [--veth-offloads on|off] [--timeout SECONDS]\n\
                     (THROUGHPUT_MIB=N also sets the amount; default 256; timeout 300 s)";

fn options() -> Result<Options> {
    let mut opts = Options {
        mib: match std::env::var("THROUGHPUT_MIB") {
            Ok(v) => v
                .parse()
                .map_err(|_| format!("THROUGHPUT_MIB={v} is not a number"))?,
            Err(_) => DEFAULT_MIB,
        },
        tun: true,
        veth: true,
        veth_offloads: true,
        timeout: 300,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--mib" => {
                let v = value()?;
                opts.mib = v
                    .parse()
                    .map_err(|_| format!("--mib {v} is not a number"))?;
            }
            "--mode" => match value()?.as_str() {
                "tun" => (opts.tun, opts.veth) = (true, false),
                "veth" => (opts.tun, opts.veth) = (false, true),
                "all" => (opts.tun, opts.veth) = (true, true),
                other => return Err(format!("unknown mode {other}\n{USAGE}").into()),
            },
            "--timeout" => {
                let v = value()?;
                opts.timeout = v
                    .parse()
                    .map_err(|_| format!("--timeout {v} is not a number of seconds"))?;
            }
            "--veth-offloads" => match value()?.as_str() {
                "on" => opts.veth_offloads = true,
                "off" => opts.veth_offloads = false,
                other => return Err(format!("--veth-offloads {other}\n{USAGE}").into()),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    if opts.mib == 0 {
        return Err("the amount must be at least 1 MiB".into());
    }
    Ok(opts)
}

fn main() -> std::process::ExitCode {
    match measure() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Namespaces were deleted by the guards' drops on the way here.
            eprintln!("throughput: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn measure() -> Result<()> {
    let opts = options()?;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root: it creates network namespaces and a TUN device".into());
    }
    watch_signals_and_time(Duration::from_secs(opts.timeout))?;
    let total = opts.mib * MIB;
    let pattern = pattern();
    if opts.tun {
        tun(total, &pattern)?;
    }
    if opts.veth {
        veth(total, &pattern, opts.veth_offloads)?;
    }
    Ok(())
}
