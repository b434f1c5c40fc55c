//! Bulk TCP transfer between two userspace stacks over an in-memory link, tcp-fsm against
//! smoltcp 0.14, in the same run.
//!
//! Both links carry whole IPv4 packets of at most 1500 bytes with no loss or delay; both
//! stacks compute checksums on output and verify them on input (tcp-fsm always; smoltcp
//! with its default `Checksum::Both`). Each iteration opens a fresh connection and moves
//! `SIZE` bytes one way; throughput is reported in bytes per second. Virtual time: tcp-fsm
//! takes it as an argument, and smoltcp's clock advances 1 ms per round of polling (it
//! keeps its default 10 ms delayed ACK).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SIZE: usize = 8 << 20;
const BUFFER: usize = 256 * 1024;

mod ours {
    use super::*;
    use tcp_fsm::{Config, LinkConfig, Network, Stack};

    pub fn transfer(data: &[u8]) -> usize {
        let cfg = Config {
            recv_buffer: BUFFER,
            send_buffer: BUFFER,
            ..Config::default()
        };
        let server_ip = Ipv4Addr::new(10, 0, 0, 2);
        let client = Stack::new(Ipv4Addr::new(10, 0, 0, 1), cfg.clone(), [1; 16]);
        let mut server = Stack::new(server_ip, cfg, [2; 16]);
        server.listen(80, 1).unwrap();
        let link = LinkConfig {
            delay: Duration::ZERO,
            ..LinkConfig::default()
        };
        let mut net = Network::new(client, server, link, 1);
        let conn = net
            .a
            .connect(SocketAddrV4::new(server_ip, 80), net.now)
            .unwrap();
        let mut accepted = None;
        let (mut sent, mut received) = (0, 0);
        let mut buf = vec![0u8; 64 * 1024];
        while received < data.len() {
            accepted = accepted.or_else(|| net.b.accept(80));
            if sent < data.len() {
                sent += net.a.send(conn, &data[sent..]).unwrap_or(0);
            }
            if let Some(id) = accepted {
                while let Ok(n @ 1..) = net.b.recv(id, &mut buf) {
                    received += n;
                }
            }
            net.settle();
        }
        received
    }
}

mod smol {
    use super::*;
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant;
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

    type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

    /// One end of an in-memory IP link.
    struct Pipe {
        rx: Queue,
        tx: Queue,
    }

    struct Rx(Vec<u8>);
    struct Tx(Queue);

    impl RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(&self.0)
        }
    }

    impl TxToken for Tx {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut packet = vec![0u8; len];
            let result = f(&mut packet);
            self.0.borrow_mut().push_back(packet);
            result
        }
    }

    impl Device for Pipe {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx;

        fn receive(&mut self, _: Instant) -> Option<(Rx, Tx)> {
            let packet = self.rx.borrow_mut().pop_front()?;
            Some((Rx(packet), Tx(self.tx.clone())))
        }

        fn transmit(&mut self, _: Instant) -> Option<Tx> {
            Some(Tx(self.tx.clone()))
        }

        fn capabilities(&self) -> DeviceCapabilities {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ip;
            caps.max_transmission_unit = 1500;
            caps
        }
    }

    fn iface(device: &mut Pipe, last: u8) -> Interface {
        let mut iface = Interface::new(Config::new(HardwareAddress::Ip), device, Instant::ZERO);
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::v4(10, 0, 0, last), 24))
                .unwrap();
        });
        iface
    }

    pub fn transfer(data: &[u8]) -> usize {
        let (ab, ba): (Queue, Queue) = Default::default();
        let mut dev_a = Pipe {
            rx: ba.clone(),
            tx: ab.clone(),
        };
        let mut dev_b = Pipe { rx: ab, tx: ba };
        let mut if_a = iface(&mut dev_a, 1);
        let mut if_b = iface(&mut dev_b, 2);
        let socket = || {
            tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; BUFFER]),
                tcp::SocketBuffer::new(vec![0; BUFFER]),
            )
        };
        let mut set_a = SocketSet::new(vec![]);
        let mut set_b = SocketSet::new(vec![]);
        let client = set_a.add(socket());
        let server = set_b.add(socket());
        set_b.get_mut::<tcp::Socket>(server).listen(80).unwrap();
        set_a
            .get_mut::<tcp::Socket>(client)
            .connect(if_a.context(), (IpAddress::v4(10, 0, 0, 2), 80), 49152)
            .unwrap();
        let mut now = Instant::ZERO;
        let (mut sent, mut received) = (0, 0);
        let mut buf = vec![0u8; 64 * 1024];
        while received < data.len() {
            if_a.poll(now, &mut dev_a, &mut set_a);
            if_b.poll(now, &mut dev_b, &mut set_b);
            let c = set_a.get_mut::<tcp::Socket>(client);
            if sent < data.len() && c.can_send() {
                sent += c.send_slice(&data[sent..]).unwrap_or(0);
            }
            let s = set_b.get_mut::<tcp::Socket>(server);
            while let Ok(n @ 1..) = s.recv_slice(&mut buf) {
                received += n;
            }
            now += smoltcp::time::Duration::from_millis(1);
        }
        received
    }
}

fn bulk_transfer(c: &mut Criterion) {
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 253) as u8).collect();
    assert_eq!(ours::transfer(&data), SIZE);
    assert_eq!(smol::transfer(&data), SIZE);
    let mut group = c.benchmark_group("tcp_bulk_8MiB_mtu1500");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(10);
    group.bench_function("tcp-fsm", |b| b.iter(|| ours::transfer(black_box(&data))));
    group.bench_function("smoltcp-0.14", |b| {
        b.iter(|| smol::transfer(black_box(&data)))
    });
    group.finish();
}

criterion_group!(benches, bulk_transfer);
criterion_main!(benches);
