//! TCP segments over IPv4: parsing, building and checksums.
//!
//! [`Segment`] is the checked representation the engine works on: once an IP packet has
//! been parsed into one, no accessor can fail. [`Segment::parse`] checks the packet's
//! structure with `etherparse`, verifies the IPv4 and TCP checksums, and turns every
//! malformed packet into a typed [`WireError`]; the segment borrows its payload from the
//! packet rather than copying it. [`Segment::emit_into`] writes the two fixed headers
//! itself (this crate sends no IP options and at most two TCP options) and fills in both
//! checksums. [`PacketQueue`] holds built packets and reuses their buffers.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use etherparse::{IpNumber, Ipv4Slice, TcpOptionElement, TcpSlice};

use crate::{checksum, seq};

/// The TTL of the packets this crate builds.
const TTL: u8 = 64;
/// The IP protocol number of TCP.
pub(crate) const IP_PROTO_TCP: u8 = 6;
/// An IPv4 header without options (RFC 791 §3.1).
const IPV4_HEADER_LEN: usize = 20;
/// A TCP header without options (RFC 9293 §3.1).
const TCP_HEADER_LEN: usize = 20;
/// Where the TCP checksum sits in the TCP header.
const TCP_CHECKSUM_AT: usize = 16;
/// How many spare packet buffers a [`PacketQueue`] keeps for reuse.
const SPARE_BUFFERS: usize = 256;

/// Why a packet was not accepted as a TCP segment. Each one is a drop, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not a well-formed IPv4 packet (bad version, lengths or header).
    #[error("malformed IPv4 packet: {0}")]
    Ipv4(String),
    /// The IPv4 header checksum does not match.
    #[error("bad IPv4 header checksum")]
    Ipv4Checksum,
    /// The packet is an IPv4 fragment; this stack does no reassembly of IP fragments.
    #[error("IPv4 fragment")]
    Fragment,
    /// The IP payload is not TCP.
    #[error("not TCP (IP protocol {0})")]
    NotTcp(u8),
    /// The TCP header is truncated or its data offset is wrong.
    #[error("malformed TCP header: {0}")]
    Tcp(String),
    /// The TCP checksum does not match (RFC 9293 §3.1: such segments are discarded).
    #[error("bad TCP checksum")]
    TcpChecksum,
    /// A TCP option is malformed.
    #[error("malformed TCP option: {0}")]
    TcpOption(String),
    /// The packet is not IPv4 (TUN devices also carry IPv6).
    #[error("not IPv4 (version {0})")]
    NotIpv4(u8),
    /// A segment to build does not fit in an IPv4 packet.
    #[error("segment too large: {0} bytes of payload")]
    TooLarge(usize),
}

/// The control bits this crate uses (RFC 9293 §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    /// Synchronize sequence numbers.
    pub syn: bool,
    /// The acknowledgment field is significant.
    pub ack: bool,
    /// No more data from the sender.
    pub fin: bool,
    /// Reset the connection.
    pub rst: bool,
    /// Push function.
    pub psh: bool,
}

impl Flags {
    /// `<CTL=ACK>`.
    pub const ACK: Flags = Flags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
        psh: false,
    };
    /// `<CTL=SYN>`.
    pub const SYN: Flags = Flags {
        syn: true,
        ..Flags::NONE
    };
    /// `<CTL=SYN,ACK>`.
    pub const SYN_ACK: Flags = Flags {
        syn: true,
        ..Flags::ACK
    };
    /// `<CTL=RST>`.
    pub const RST: Flags = Flags {
        rst: true,
        ..Flags::NONE
    };
    /// `<CTL=RST,ACK>`.
    pub const RST_ACK: Flags = Flags {
        rst: true,
        ..Flags::ACK
    };
    /// `<CTL=FIN,ACK>`.
    pub const FIN_ACK: Flags = Flags {
        fin: true,
        ..Flags::ACK
    };
    /// No bits.
    pub const NONE: Flags = Flags {
        syn: false,
        ack: false,
        fin: false,
        rst: false,
        psh: false,
    };

    /// The control bits as the flags byte of the TCP header (RFC 9293 §3.1).
    fn bits(self) -> u8 {
        u8::from(self.fin)
            | u8::from(self.syn) << 1
            | u8::from(self.rst) << 2
            | u8::from(self.psh) << 3
            | u8::from(self.ack) << 4
    }
}

/// One TCP segment with its IPv4 addresses: the engine's view of a packet.
///
/// A parsed segment borrows its payload from the packet (`Cow::Borrowed`); one built by
/// hand or taken from a connection's outbox owns it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment<'a> {
    /// Source address and port.
    pub src: Option<SocketAddrV4>,
    /// Destination address and port.
    pub dst: Option<SocketAddrV4>,
    /// SEG.SEQ.
    pub seq: u32,
    /// SEG.ACK (meaningful only with the ACK bit).
    pub ack: u32,
    /// Control bits.
    pub flags: Flags,
    /// SEG.WND as carried on the wire (not yet scaled).
    pub window: u16,
    /// The MSS option (RFC 9293 §3.7.1), on SYNs.
    pub mss: Option<u16>,
    /// The window scale option's shift count (RFC 7323 §2), on SYNs.
    pub window_scale: Option<u8>,
    /// The data.
    pub payload: Cow<'a, [u8]>,
}

impl Segment<'_> {
    /// SEG.LEN: the payload plus one for each of SYN and FIN (RFC 9293 §3.4).
    pub fn len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags.syn) + u32::from(self.flags.fin)
    }

    /// Whether the segment occupies no sequence space.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sequence number just past this segment.
    pub fn seq_end(&self) -> u32 {
        self.seq.wrapping_add(self.len())
    }

    /// The source address, or `0.0.0.0:0` for a segment built without one.
    pub fn src_addr(&self) -> SocketAddrV4 {
        self.src
            .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    }

    /// The destination address, or `0.0.0.0:0` for a segment built without one.
    pub fn dst_addr(&self) -> SocketAddrV4 {
        self.dst
            .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    }

    /// Whether SEG.ACK lies in `(lo, hi]`, as the RFC's acceptability tests phrase it.
    pub fn acks_within(&self, lo: u32, hi: u32) -> bool {
        seq::lt(lo, self.ack) && seq::le(self.ack, hi)
    }

    /// The same segment with a payload of its own, free of the packet it was parsed from.
    pub fn into_owned(self) -> Segment<'static> {
        let header = self.header();
        Segment {
            payload: Cow::Owned(self.payload.into_owned()),
            ..header
        }
    }

    /// The same header with no payload.
    pub fn header(&self) -> Segment<'static> {
        Segment {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            mss: self.mss,
            window_scale: self.window_scale,
            payload: Cow::Borrowed(&[]),
        }
    }
}

impl<'a> Segment<'a> {
    /// Parses an IPv4 packet holding one TCP segment, verifying both checksums. The
    /// segment's payload borrows from `packet`.
    ///
    /// # Errors
    ///
    /// A [`WireError`] naming what is wrong with the packet.
    pub fn parse(packet: &'a [u8]) -> Result<Segment<'a>, WireError> {
        let version = packet.first().map_or(0, |b| b >> 4);
        if version != 4 {
            return Err(WireError::NotIpv4(version));
        }
        let ip = Ipv4Slice::from_slice(packet).map_err(|e| WireError::Ipv4(e.to_string()))?;
        let header = ip.header();
        if !checksum::verifies(checksum::sum(header.slice())) {
            return Err(WireError::Ipv4Checksum);
        }
        if ip.is_payload_fragmented() {
            return Err(WireError::Fragment);
        }
        if ip.payload_ip_number() != IpNumber::TCP {
            return Err(WireError::NotTcp(ip.payload_ip_number().0));
        }
        let src_ip = header.source_addr();
        let dst_ip = header.destination_addr();
        let bytes = ip.payload().payload;
        let tcp = TcpSlice::from_slice(bytes).map_err(|e| WireError::Tcp(e.to_string()))?;
        // RFC 9293 §3.1: the checksum covers the pseudo-header and the whole segment.
        let tcp_len = u16::try_from(bytes.len())
            .map_err(|_| WireError::Tcp(format!("{} bytes is too long", bytes.len())))?;
        let pseudo = checksum::pseudo_header(src_ip.octets(), dst_ip.octets(), tcp_len);
        if !checksum::verifies(pseudo + checksum::sum(bytes)) {
            return Err(WireError::TcpChecksum);
        }
        Self::from_tcp(&tcp, src_ip, dst_ip)
    }

    fn from_tcp(
        tcp: &TcpSlice<'a>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Segment<'a>, WireError> {
        let mut segment = Segment {
            src: Some(SocketAddrV4::new(src, tcp.source_port())),
            dst: Some(SocketAddrV4::new(dst, tcp.destination_port())),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: Flags {
                syn: tcp.syn(),
                ack: tcp.ack(),
                fin: tcp.fin(),
                rst: tcp.rst(),
                psh: tcp.psh(),
            },
            window: tcp.window_size(),
            mss: None,
            window_scale: None,
            payload: Cow::Borrowed(tcp.payload()),
        };
        for option in tcp.options_iterator() {
            match option.map_err(|e| WireError::TcpOption(e.to_string()))? {
                TcpOptionElement::MaximumSegmentSize(mss) => segment.mss = Some(mss),
                TcpOptionElement::WindowScale(shift) => segment.window_scale = Some(shift),
                // SACK and timestamps are not negotiated by this stack, so a peer must
                // not send them; RFC 9293 §3.1 asks to ignore options one does not use.
                _ => {}
            }
        }
        Ok(segment)
    }
}

impl Segment<'_> {
    /// Builds the IPv4 packet for this segment, with both checksums computed.
    ///
    /// # Errors
    ///
    /// [`WireError::TooLarge`] when the segment does not fit in one IPv4 packet.
    pub fn emit(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        self.emit_into(&mut out)?;
        Ok(out)
    }

    /// Like [`Segment::emit`], writing into `out` (which is cleared first), so that one
    /// buffer can serve many packets.
    ///
    /// # Errors
    ///
    /// [`WireError::TooLarge`] when the segment does not fit in one IPv4 packet.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        self.emit_with(&[&self.payload], out)
    }

    /// Builds this segment's header with `text` as its payload instead of its own, the
    /// text given in pieces as a ring buffer holds it; `out` is cleared first. The
    /// engine sends straight from its send buffer this way.
    pub(crate) fn emit_with(&self, text: &[&[u8]], out: &mut Vec<u8>) -> Result<(), WireError> {
        let text_len: usize = text.iter().map(|piece| piece.len()).sum();
        let (options, options_len) = self.options();
        let tcp_len = TCP_HEADER_LEN + options_len + text_len;
        let total =
            u16::try_from(IPV4_HEADER_LEN + tcp_len).map_err(|_| WireError::TooLarge(text_len))?;
        out.clear();
        out.reserve(usize::from(total));
        self.put_ipv4_header(total, out);
        self.put_tcp_header(&options[..options_len], out);
        for piece in text {
            out.extend_from_slice(piece);
        }
        // The length fits: it is below `total`.
        let pseudo = checksum::pseudo_header(
            self.src_addr().ip().octets(),
            self.dst_addr().ip().octets(),
            tcp_len as u16,
        );
        let tcp = &mut out[IPV4_HEADER_LEN..];
        let field = checksum::field(pseudo + checksum::sum(tcp));
        tcp[TCP_CHECKSUM_AT..TCP_CHECKSUM_AT + 2].copy_from_slice(&field);
        Ok(())
    }

    /// The options of this segment, padded to a multiple of four bytes: MSS, then a NOP
    /// and the window scale, so that the 3-byte option sits on a 4-byte boundary as
    /// RFC 7323 §2.2 suggests.
    fn options(&self) -> ([u8; 8], usize) {
        let mut bytes = [0u8; 8];
        let mut len = 0;
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            bytes[..4].copy_from_slice(&[2, 4, hi, lo]);
            len = 4;
        }
        if let Some(shift) = self.window_scale {
            bytes[len..len + 4].copy_from_slice(&[1, 3, 3, shift]);
            len += 4;
        }
        (bytes, len)
    }

    /// The IPv4 header (RFC 791 §3.1): no options, DF set, identification 0 as RFC 6864
    /// §4.1 allows for atomic datagrams, and the header checksum.
    fn put_ipv4_header(&self, total: u16, out: &mut Vec<u8>) {
        let [len_hi, len_lo] = total.to_be_bytes();
        let mut header = [
            0x45,
            0,
            len_hi,
            len_lo,
            0,
            0,
            0x40,
            0,
            TTL,
            IP_PROTO_TCP,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        header[12..16].copy_from_slice(&self.src_addr().ip().octets());
        header[16..20].copy_from_slice(&self.dst_addr().ip().octets());
        let field = checksum::field(checksum::sum(&header));
        header[10..12].copy_from_slice(&field);
        out.extend_from_slice(&header);
    }

    /// The TCP header (RFC 9293 §3.1) with its checksum still zero.
    fn put_tcp_header(&self, options: &[u8], out: &mut Vec<u8>) {
        let mut header = [0u8; TCP_HEADER_LEN];
        header[0..2].copy_from_slice(&self.src_addr().port().to_be_bytes());
        header[2..4].copy_from_slice(&self.dst_addr().port().to_be_bytes());
        header[4..8].copy_from_slice(&self.seq.to_be_bytes());
        let ack = if self.flags.ack { self.ack } else { 0 };
        header[8..12].copy_from_slice(&ack.to_be_bytes());
        // Data offset in 32-bit words; `options` holds at most 8 bytes.
        header[12] = (((TCP_HEADER_LEN + options.len()) / 4) as u8) << 4;
        header[13] = self.flags.bits();
        header[14..16].copy_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(options);
    }
}

/// Built packets waiting for the device, oldest first, and spare buffers to build the
/// next ones in: once a driver has sent a packet it hands the buffer back with
/// [`recycle`](PacketQueue::recycle), so a steady flow allocates nothing.
#[derive(Debug, Default)]
pub struct PacketQueue {
    ready: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

impl PacketQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer to build a packet in: a recycled one if there is one.
    pub fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }

    /// Queues a built packet at the back.
    pub fn push_packet(&mut self, packet: Vec<u8>) {
        self.ready.push_back(packet);
    }

    /// Builds `segment` into a packet at the back of the queue; a segment that cannot be
    /// built is logged and dropped.
    pub fn push(&mut self, segment: &Segment<'_>) {
        let mut packet = self.buffer();
        match segment.emit_into(&mut packet) {
            Ok(()) => self.push_packet(packet),
            Err(error) => {
                tracing::debug!(%error, "could not build a segment");
                self.recycle(packet);
            }
        }
    }

    /// The oldest packet, if any.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        self.ready.pop_front()
    }

    /// Takes back a sent packet's buffer for reuse.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            self.spare.push(buffer);
        }
    }

    /// How many packets are waiting.
    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Whether no packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{Ipv4Header, TcpHeader};

    fn sample() -> Segment<'static> {
        Segment {
            src: Some("10.0.0.1:4000".parse().unwrap()),
            dst: Some("10.0.0.2:80".parse().unwrap()),
            seq: 1000,
            ack: 2000,
            flags: Flags::SYN_ACK,
            window: 65535,
            mss: Some(1460),
            window_scale: Some(7),
            payload: Cow::Borrowed(b"hello"),
        }
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let segment = sample();
        let bytes = segment.emit().unwrap();
        assert_eq!(Segment::parse(&bytes).unwrap(), segment);
    }

    /// The hand-written headers are what `etherparse` reads, with the checksums it
    /// computes, for every combination of options and an odd payload.
    #[test]
    fn etherparse_agrees_with_the_headers() {
        for (mss, window_scale) in [
            (None, None),
            (Some(536), None),
            (None, Some(3)),
            (Some(1460), Some(14)),
        ] {
            let segment = Segment {
                mss,
                window_scale,
                flags: Flags {
                    psh: true,
                    ..Flags::FIN_ACK
                },
                payload: Cow::Owned((0..1001u32).map(|i| i as u8).collect()),
                ..sample()
            };
            let bytes = segment.emit().unwrap();
            let (ip, rest) = Ipv4Header::from_slice(&bytes).unwrap();
            assert_eq!(ip.header_checksum, ip.calc_header_checksum());
            assert!(ip.dont_fragment);
            let (tcp, payload) = TcpHeader::from_slice(rest).unwrap();
            let sum = tcp.calc_checksum_ipv4(&ip, payload).unwrap();
            assert_eq!(tcp.checksum, sum);
            assert_eq!(
                (tcp.fin, tcp.psh, tcp.ack, tcp.syn, tcp.rst),
                (true, true, true, false, false)
            );
            assert_eq!(payload, &segment.payload[..]);
        }
    }

    /// Text in two pieces, as the send buffer may hold it, builds the same packet.
    #[test]
    fn text_in_pieces_builds_the_same_packet() {
        let segment = Segment {
            flags: Flags::ACK,
            mss: None,
            window_scale: None,
            payload: Cow::Borrowed(b"an odd split of text"),
            ..sample()
        };
        let whole = segment.emit().unwrap();
        for cut in 0..segment.payload.len() {
            let (a, b) = segment.payload.split_at(cut);
            let mut out = Vec::new();
            segment.header().emit_with(&[a, b], &mut out).unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    /// RFC 9293 §3.1: a segment whose checksum does not verify is dropped.
    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut bytes = sample().emit().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(Segment::parse(&bytes), Err(WireError::TcpChecksum));
        let mut bytes = sample().emit().unwrap();
        bytes[8] ^= 1;
        assert_eq!(Segment::parse(&bytes), Err(WireError::Ipv4Checksum));
    }

    #[test]
    fn truncated_and_foreign_packets_are_typed_errors() {
        let bytes = sample().emit().unwrap();
        for cut in 0..bytes.len() {
            assert!(Segment::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(Segment::parse(&[0x60, 0, 0]), Err(WireError::NotIpv4(6)));
    }

    /// A segment too large for one IPv4 packet is an error, not a panic.
    #[test]
    fn oversized_segments_are_refused() {
        let segment = Segment {
            payload: Cow::Owned(vec![0; 70_000]),
            ..sample()
        };
        assert!(matches!(segment.emit(), Err(WireError::TooLarge(70_000))));
    }

    /// Buffers come back from the device and serve the next packets.
    #[test]
    fn the_queue_reuses_buffers() {
        let mut queue = PacketQueue::new();
        queue.push(&sample());
        let first = queue.pop().unwrap();
        let at = first.as_ptr();
        queue.recycle(first);
        queue.push(&sample());
        assert_eq!(queue.len(), 1);
        let second = queue.pop().unwrap();
        assert_eq!(second.as_ptr(), at);
        assert!(queue.is_empty());
    }
}
