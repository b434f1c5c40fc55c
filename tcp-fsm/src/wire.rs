//! TCP segments over IPv4: parsing, building and checksums, through `etherparse`.
//!
//! [`Segment`] is the checked representation the engine works on: once an IP packet has
//! been parsed into one, no accessor can fail. [`Segment::parse`] verifies the IPv4 and
//! TCP checksums and turns every malformed packet into a typed [`WireError`];
//! [`Segment::emit`] builds a packet with both checksums filled in.

use std::net::{Ipv4Addr, SocketAddrV4};

use etherparse::{IpNumber, Ipv4Header, Ipv4Slice, TcpHeader, TcpOptionElement, TcpSlice};

use crate::seq;

/// The TTL of the packets this crate builds.
const TTL: u8 = 64;

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
}

/// One TCP segment with its IPv4 addresses: the engine's view of a packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
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
    pub payload: Vec<u8>,
}

impl Segment {
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

    /// Parses an IPv4 packet holding one TCP segment, verifying both checksums.
    ///
    /// # Errors
    ///
    /// A [`WireError`] naming what is wrong with the packet.
    pub fn parse(packet: &[u8]) -> Result<Segment, WireError> {
        let version = packet.first().map_or(0, |b| b >> 4);
        if version != 4 {
            return Err(WireError::NotIpv4(version));
        }
        let ip = Ipv4Slice::from_slice(packet).map_err(|e| WireError::Ipv4(e.to_string()))?;
        let header = ip.header();
        if header.to_header().calc_header_checksum() != header.header_checksum() {
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
        let tcp = TcpSlice::from_slice(ip.payload().payload)
            .map_err(|e| WireError::Tcp(e.to_string()))?;
        let sum = tcp
            .calc_checksum_ipv4(src_ip.octets(), dst_ip.octets())
            .map_err(|e| WireError::Tcp(e.to_string()))?;
        if sum != tcp.checksum() {
            return Err(WireError::TcpChecksum);
        }
        Self::from_tcp(&tcp, src_ip, dst_ip)
    }

    fn from_tcp(tcp: &TcpSlice<'_>, src: Ipv4Addr, dst: Ipv4Addr) -> Result<Segment, WireError> {
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
            payload: tcp.payload().to_vec(),
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

    /// Builds the IPv4 packet for this segment, with both checksums computed.
    ///
    /// # Errors
    ///
    /// [`WireError::TooLarge`] when the segment does not fit in one IPv4 packet.
    pub fn emit(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::with_capacity(60 + self.payload.len());
        self.emit_into(&mut out)?;
        Ok(out)
    }

    /// Like [`Segment::emit`], appending to `out` (which is cleared first).
    ///
    /// # Errors
    ///
    /// [`WireError::TooLarge`] when the segment does not fit in one IPv4 packet.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.clear();
        let src = self.src_addr();
        let dst = self.dst_addr();
        let mut tcp = TcpHeader::new(src.port(), dst.port(), self.seq, self.window);
        tcp.acknowledgment_number = if self.flags.ack { self.ack } else { 0 };
        tcp.syn = self.flags.syn;
        tcp.ack = self.flags.ack;
        tcp.fin = self.flags.fin;
        tcp.rst = self.flags.rst;
        tcp.psh = self.flags.psh;
        // At most MSS, NOP and window scale; an array keeps the hot path free of allocation.
        let mut options = [
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
        ];
        let mut count = 0;
        if let Some(mss) = self.mss {
            options[count] = TcpOptionElement::MaximumSegmentSize(mss);
            count += 1;
        }
        if let Some(shift) = self.window_scale {
            // A NOP first keeps the 3-byte option on a 4-byte boundary (RFC 7323 §2.2).
            options[count + 1] = TcpOptionElement::WindowScale(shift);
            count += 2;
        }
        tcp.set_options(&options[..count])
            .map_err(|_| WireError::TooLarge(self.payload.len()))?;
        let tcp_len = tcp.header_len() + self.payload.len();
        let tcp_len16 =
            u16::try_from(tcp_len).map_err(|_| WireError::TooLarge(self.payload.len()))?;
        let mut ip = Ipv4Header::new(
            tcp_len16,
            TTL,
            IpNumber::TCP,
            src.ip().octets(),
            dst.ip().octets(),
        )
        .map_err(|_| WireError::TooLarge(self.payload.len()))?;
        ip.dont_fragment = true;
        ip.header_checksum = ip.calc_header_checksum();
        tcp.checksum = tcp
            .calc_checksum_ipv4(&ip, &self.payload)
            .map_err(|_| WireError::TooLarge(self.payload.len()))?;
        out.extend_from_slice(&ip.to_bytes());
        out.extend_from_slice(&tcp.to_bytes());
        out.extend_from_slice(&self.payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Segment {
        Segment {
            src: Some("10.0.0.1:4000".parse().unwrap()),
            dst: Some("10.0.0.2:80".parse().unwrap()),
            seq: 1000,
            ack: 2000,
            flags: Flags::SYN_ACK,
            window: 65535,
            mss: Some(1460),
            window_scale: Some(7),
            payload: b"hello".to_vec(),
        }
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let segment = sample();
        let bytes = segment.emit().unwrap();
        assert_eq!(Segment::parse(&bytes).unwrap(), segment);
    }

    /// RFC 9293 §3.1: a segment whose checksum does not verify is dropped.
    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut bytes = sample().emit().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(Segment::parse(&bytes), Err(WireError::TcpChecksum));
    }

    #[test]
    fn truncated_and_foreign_packets_are_typed_errors() {
        let bytes = sample().emit().unwrap();
        for cut in 0..bytes.len() {
            assert!(Segment::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(Segment::parse(&[0x60, 0, 0]), Err(WireError::NotIpv4(6)));
    }
}
