//! The blocking user API: [`NetStack`] runs a [`Stack`] over a [`Device`] on a thread
//! of its own, and [`TcpListener`] / [`TcpStream`] work like their `std::net` namesakes,
//! with `std::io::Read` and `Write`, `shutdown` and close on drop.
//!
//! The stack sits behind one mutex. The driver thread reads packets, feeds them in, runs
//! the timers and wakes waiting callers through a condition variable; a caller that
//! writes or reads sends what the stack has to say at once, on its own thread, so data
//! does not wait for the driver to wake.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::device::Device;
use crate::engine::CallError;
use crate::machine::tcp::StateId;
use crate::stack::{ConnId, Stack, StackError};
use crate::tcb::ConnError;
use crate::time::Instant;

/// How long the driver sleeps at most between timer checks.
const TICK: Duration = Duration::from_millis(5);

struct Shared {
    stack: Mutex<Stack>,
    changed: Condvar,
    device: Box<dyn Device>,
    epoch: std::time::Instant,
    stop: AtomicBool,
}

impl Shared {
    fn now(&self) -> Instant {
        Instant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    fn lock(&self) -> MutexGuard<'_, Stack> {
        // A panic while holding the lock cannot leave the stack half-updated in a way
        // that matters more than losing the whole stack, so a poisoned lock is reused.
        self.stack.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs timers and sends everything the stack has queued.
    fn flush(&self, stack: &mut Stack) {
        stack.poll(self.now());
        while let Some(packet) = stack.transmit() {
            if let Err(error) = self.device.send(&packet) {
                tracing::debug!(%error, "device refused a packet");
            }
            stack.recycle(packet);
        }
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Stack>) -> MutexGuard<'a, Stack> {
        match self.changed.wait_timeout(guard, TICK * 4) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        }
    }
}

/// A [`Stack`] running over a device, with a driver thread.
pub struct NetStack {
    shared: Arc<Shared>,
    driver: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NetStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetStack").finish_non_exhaustive()
    }
}

impl NetStack {
    /// Starts driving `stack` over `device`.
    pub fn new(stack: Stack, device: impl Device + 'static) -> Self {
        let shared = Arc::new(Shared {
            stack: Mutex::new(stack),
            changed: Condvar::new(),
            device: Box::new(device),
            epoch: std::time::Instant::now(),
            stop: AtomicBool::new(false),
        });
        let driver_shared = Arc::clone(&shared);
        let driver = std::thread::Builder::new()
            .name("tcp-fsm-driver".into())
            .spawn(move || drive(&driver_shared))
            .ok();
        NetStack { shared, driver }
    }

    /// Runs `f` on the stack (for counters and inspection).
    pub fn with_stack<T>(&self, f: impl FnOnce(&mut Stack) -> T) -> T {
        f(&mut self.shared.lock())
    }
}

impl Drop for NetStack {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
    }
}

/// The driver thread: packets in, timers, packets out, wake-ups.
fn drive(shared: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        let timeout = {
            let stack = shared.lock();
            let now = shared.now();
            stack
                .poll_at()
                .map_or(TICK, |at| at.saturating_since(now).min(TICK))
        };
        if let Err(error) = shared.device.wait(timeout) {
            tracing::debug!(%error, "device wait failed");
            std::thread::sleep(TICK);
        }
        let mut stack = shared.lock();
        let now = shared.now();
        loop {
            match shared.device.recv(&mut buf) {
                Ok(Some(n)) => stack.receive_packet(&buf[..n], now),
                Ok(None) => break,
                Err(error) => {
                    tracing::debug!(%error, "device read failed");
                    break;
                }
            }
        }
        shared.flush(&mut stack);
        drop(stack);
        shared.changed.notify_all();
    }
}

fn to_io(error: StackError) -> io::Error {
    let kind = match &error {
        StackError::PortInUse(_) => io::ErrorKind::AddrInUse,
        StackError::NoFreePort => io::ErrorKind::AddrNotAvailable,
        StackError::NoSuchConnection => io::ErrorKind::NotConnected,
        StackError::Call(CallError::Failed(ConnError::Reset)) => io::ErrorKind::ConnectionReset,
        StackError::Call(CallError::Failed(ConnError::Refused)) => io::ErrorKind::ConnectionRefused,
        StackError::Call(CallError::Failed(ConnError::TimedOut)) => io::ErrorKind::TimedOut,
        StackError::Call(CallError::Failed(ConnError::Aborted)) => io::ErrorKind::ConnectionAborted,
        StackError::Call(CallError::Closing) => io::ErrorKind::BrokenPipe,
        StackError::Call(_) => io::ErrorKind::NotConnected,
    };
    io::Error::new(kind, error)
}

/// A listening port.
pub struct TcpListener {
    shared: Arc<Shared>,
    port: u16,
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TcpListener {
    /// Listens on `port` of the stack's address, with at most `backlog` connections
    /// waiting to be accepted.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AddrInUse`] when the port already listens.
    pub fn bind(net: &NetStack, port: u16, backlog: usize) -> io::Result<Self> {
        net.shared.lock().listen(port, backlog).map_err(to_io)?;
        Ok(TcpListener {
            shared: Arc::clone(&net.shared),
            port,
        })
    }

    /// Waits for an incoming connection.
    ///
    /// # Errors
    ///
    /// None at present; the signature leaves room for a closed stack.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddrV4)> {
        let mut stack = self.shared.lock();
        loop {
            if let Some(id) = stack.accept(self.port) {
                let remote = stack
                    .connection(id)
                    .map(|c| c.tcb().remote())
                    .ok_or_else(|| to_io(StackError::NoSuchConnection))?;
                let stream = TcpStream::new(Arc::clone(&self.shared), id);
                return Ok((stream, remote));
            }
            stack = self.shared.wait(stack);
        }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.shared.lock().unlisten(self.port);
    }
}

struct StreamInner {
    shared: Arc<Shared>,
    id: ConnId,
}

impl Drop for StreamInner {
    fn drop(&mut self) {
        let mut stack = self.shared.lock();
        // Dropping the last handle closes the connection, like `close(2)`.
        let _ = stack.close(self.id);
        stack.release(self.id);
        self.shared.flush(&mut stack);
    }
}

/// A connection, readable and writable from several threads through clones.
#[derive(Clone)]
pub struct TcpStream {
    inner: Arc<StreamInner>,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl TcpStream {
    fn new(shared: Arc<Shared>, id: ConnId) -> Self {
        TcpStream {
            inner: Arc::new(StreamInner { shared, id }),
        }
    }

    /// Opens a connection to `remote` and waits for the handshake.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::ConnectionRefused`] on a RST, [`io::ErrorKind::TimedOut`] when
    /// the SYN is never answered.
    pub fn connect(net: &NetStack, remote: SocketAddrV4) -> io::Result<Self> {
        let shared = &net.shared;
        let mut stack = shared.lock();
        let id = stack.connect(remote, shared.now()).map_err(to_io)?;
        shared.flush(&mut stack);
        let stream = TcpStream::new(Arc::clone(shared), id);
        loop {
            let conn = stack
                .connection(id)
                .ok_or_else(|| to_io(StackError::NoSuchConnection))?;
            match conn.state() {
                StateId::SynSent | StateId::SynReceived => {}
                StateId::Closed => {
                    let error = conn.tcb().error().unwrap_or(ConnError::Refused);
                    return Err(to_io(StackError::Call(CallError::Failed(error))));
                }
                _ => break,
            }
            stack = shared.wait(stack);
        }
        drop(stack);
        Ok(stream)
    }

    /// The connection's state, for inspection.
    pub fn state(&self) -> StateId {
        let stack = self.inner.shared.lock();
        stack
            .connection(self.inner.id)
            .map_or(StateId::Closed, |c| c.state())
    }

    /// Shuts down writing (a FIN, RFC 9293 §3.10.4), reading (further data is thrown
    /// away by the caller), or both.
    ///
    /// # Errors
    ///
    /// When the connection no longer exists.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Read {
            return Ok(());
        }
        let shared = &self.inner.shared;
        let mut stack = shared.lock();
        match stack.close(self.inner.id) {
            Ok(()) | Err(StackError::Call(CallError::Closing)) => {}
            Err(error) => return Err(to_io(error)),
        }
        shared.flush(&mut stack);
        Ok(())
    }

    /// Resets the connection (ABORT, RFC 9293 §3.10.5).
    ///
    /// # Errors
    ///
    /// When the connection no longer exists.
    pub fn abort(&self) -> io::Result<()> {
        let shared = &self.inner.shared;
        let mut stack = shared.lock();
        stack.abort(self.inner.id).map_err(to_io)?;
        shared.flush(&mut stack);
        Ok(())
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let shared = &self.inner.shared;
        let id = self.inner.id;
        let mut stack = shared.lock();
        loop {
            let n = stack.recv(id, buf).map_err(to_io)?;
            let conn = stack
                .connection(id)
                .ok_or_else(|| to_io(StackError::NoSuchConnection))?;
            let eof = conn.tcb().peer_closed() || conn.state() == StateId::Closed;
            if n > 0 || eof || buf.is_empty() {
                // Reading may have opened the window: tell the peer now.
                shared.flush(&mut stack);
                return Ok(n);
            }
            stack = shared.wait(stack);
        }
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let shared = &self.inner.shared;
        let id = self.inner.id;
        let mut stack = shared.lock();
        loop {
            let n = stack.send(id, buf).map_err(to_io)?;
            if n > 0 || buf.is_empty() {
                shared.flush(&mut stack);
                return Ok(n);
            }
            stack = shared.wait(stack);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
