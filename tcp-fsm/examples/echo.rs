//! An echo server on a TUN device, reachable with `nc` (run as root, Linux).
//!
//! ```sh
//! cargo run -p tcp-fsm --example echo            # creates tun-echo, 10.99.0.1/24
//! nc 10.99.0.2 7                                  # from another terminal
//! ```
//!
//! The device gets 10.99.0.1/24 and the stack owns 10.99.0.2, so the kernel routes to
//! the stack through the device. Each connection is served on its own thread; the server
//! stops after `ECHO_MAX_CONNECTIONS` connections (default: never).

use std::io::{Read, Write};
use std::net::Ipv4Addr;

use tcp_fsm::{Config, NetStack, Stack, TcpListener, TcpStream, TunDevice};

const DEVICE: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const STACK: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const PORT: u16 = 7;

fn serve(mut stream: TcpStream) -> std::io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            // The client closed its side: close ours (drop sends the FIN).
            return Ok(total);
        }
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn main() -> std::io::Result<()> {
    let max: usize = std::env::var("ECHO_MAX_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let tun = TunDevice::open("tun-echo")?;
    tun.configure(DEVICE, 24, 1500)?;
    let mut key = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let net = NetStack::new(Stack::new(STACK, Config::default(), key), tun);
    let listener = TcpListener::bind(&net, PORT, 16)?;
    println!("echo server on {STACK}:{PORT}; try: nc {STACK} {PORT}");
    for _ in 0..max {
        let (stream, peer) = listener.accept()?;
        println!("connection from {peer}");
        std::thread::spawn(move || match serve(stream) {
            Ok(n) => println!("{peer}: echoed {n} bytes"),
            Err(e) => println!("{peer}: {e}"),
        });
    }
    Ok(())
}
