//! Initial sequence numbers per RFC 6528: `ISN = M + F(localip, localport, remoteip,
//! remoteport, secretkey)`.
//!
//! `M` is a timer ticking every 4 µs (RFC 9293 §3.4.1) and `F` is SipHash-2-4 keyed with a
//! 128-bit secret. SipHash is written out here (about forty lines) rather than pulled in as
//! a crate because the engine needs exactly one fixed-key hash of twelve bytes, and the
//! standard library's `DefaultHasher` does not promise which algorithm it uses.

use std::net::SocketAddrV4;

use crate::time::Instant;

/// A keyed generator of initial sequence numbers (RFC 6528 §3).
#[derive(Clone)]
pub struct IsnGenerator {
    key: [u64; 2],
}

impl std::fmt::Debug for IsnGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: RFC 6528 §3 relies on it staying unknown to attackers.
        f.write_str("IsnGenerator { key: <secret> }")
    }
}

impl IsnGenerator {
    /// A generator with the given 128-bit secret key.
    pub fn new(key: [u8; 16]) -> Self {
        let mut k0 = [0u8; 8];
        let mut k1 = [0u8; 8];
        k0.copy_from_slice(&key[..8]);
        k1.copy_from_slice(&key[8..]);
        IsnGenerator {
            key: [u64::from_le_bytes(k0), u64::from_le_bytes(k1)],
        }
    }

    /// The ISN for a connection between `local` and `remote` opened at `now`.
    pub fn isn(&self, local: SocketAddrV4, remote: SocketAddrV4, now: Instant) -> u32 {
        let mut msg = [0u8; 12];
        msg[..4].copy_from_slice(&local.ip().octets());
        msg[4..6].copy_from_slice(&local.port().to_be_bytes());
        msg[6..10].copy_from_slice(&remote.ip().octets());
        msg[10..].copy_from_slice(&remote.port().to_be_bytes());
        let f = siphash24(self.key, &msg) as u32;
        // RFC 6528 §3: M is a 4-microsecond timer.
        let m = (now.as_micros() / 4) as u32;
        m.wrapping_add(f)
    }
}

fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of `data` under `key` (Aumasson and Bernstein, 2012).
pub fn siphash24(key: [u64; 2], data: &[u8]) -> u64 {
    let mut v = [
        key[0] ^ 0x736f_6d65_7073_6575,
        key[1] ^ 0x646f_7261_6e64_6f6d,
        key[0] ^ 0x6c79_6765_6e65_7261,
        key[1] ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = u64::from_le_bytes(word);
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first vectors of the SipHash-2-4 reference test set (key 00..0f, message
    /// 00..(n-1)), so that the hash is SipHash and not something that merely looks random.
    #[test]
    fn siphash_matches_reference_vectors() {
        let key = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        let msg: Vec<u8> = (0u8..16).collect();
        assert_eq!(siphash24(key, &msg[..0]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(key, &msg[..1]), 0x74f8_39c5_93dc_67fd);
        assert_eq!(siphash24(key, &msg[..8]), 0x93f5_f579_9a93_2462);
        assert_eq!(siphash24(key, &msg[..15]), 0xa129_ca61_49be_45e5);
    }

    /// RFC 6528 §3: different connections get unrelated ISNs, and the same connection's
    /// ISN advances with the clock.
    #[test]
    fn isn_depends_on_the_four_tuple_and_the_clock() {
        let generator = IsnGenerator::new(*b"0123456789abcdef");
        let a: SocketAddrV4 = "10.0.0.1:1000".parse().unwrap();
        let b: SocketAddrV4 = "10.0.0.2:80".parse().unwrap();
        let c: SocketAddrV4 = "10.0.0.2:81".parse().unwrap();
        let t0 = Instant::from_micros(0);
        let t1 = Instant::from_micros(4_000);
        assert_ne!(generator.isn(a, b, t0), generator.isn(a, c, t0));
        assert_eq!(
            generator
                .isn(a, b, t1)
                .wrapping_sub(generator.isn(a, b, t0)),
            1000
        );
    }
}
