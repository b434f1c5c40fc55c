//! The internet checksum (RFC 1071) over IPv4 headers and TCP segments (RFC 9293 §3.1).
//!
//! Every payload byte goes through this sum twice, once when a packet is built and once
//! when it is checked, so it is written for speed: it splits each 32-bit word, read in
//! the machine's byte order, into its two 16-bit halves and adds them into 32-bit lanes
//! the compiler vectorises, folding the carries only at the end. RFC 1071 §2 shows why
//! this is exact: the ones' complement sum does not depend on byte order as long as the
//! result is swapped back the same way (B), and carries can be deferred and folded later
//! (C, D).

/// Words per step of the vectorised loop of [`sum_words`]: four AVX2 registers.
const STRIDE_WORDS: usize = 32;

/// Words per block of [`add_words`]: each word adds at most 2 * 0xffff, so a block's
/// 32-bit sum stays below 2^32.
const BLOCK_WORDS: usize = 1 << 15;

/// The running ones' complement sum of `data` (taken from an even offset of the checked
/// range), not yet folded: add sums of several pieces, then [`fold`] once.
pub(crate) fn sum(data: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, as just checked; that is all `sum_avx2` requires.
        return unsafe { sum_avx2(data) };
    }
    sum_words(data)
}

/// [`sum_words`] compiled for AVX2, whose 256-bit lanes take twice the bytes per step of
/// the SSE2 that every x86-64 has. The detection in [`sum`] is one cached flag test.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_avx2(data: &[u8]) -> u64 {
    sum_words(data)
}

/// The portable sum, written so that the compiler vectorises it for whatever lanes the
/// target has. The vectorised loop gets a whole number of its steps, and the few words
/// left over are added one by one, which costs less than the compiler's own remainder
/// loops or a padded copy.
#[inline(always)]
fn sum_words(data: &[u8]) -> u64 {
    let (words, tail) = data.as_chunks::<4>();
    let (body, rest) = words.split_at(words.len() - words.len() % STRIDE_WORDS);
    let rest: u64 = rest
        .iter()
        .map(|word| u64::from(u32::from_ne_bytes(*word)))
        .sum();
    // RFC 1071 §1: an odd length is padded with a zero octet; the bytes stay paired as
    // they are in the packet, so the padding goes after them.
    let mut last = [0u8; 4];
    last[..tail.len()].copy_from_slice(tail);
    add_words(body) + rest + u64::from(u32::from_ne_bytes(last))
}

/// Adds the two 16-bit halves of every word.
#[inline(always)]
fn add_words(words: &[[u8; 4]]) -> u64 {
    let mut total = 0u64;
    for block in words.chunks(BLOCK_WORDS) {
        let block_sum: u32 = block
            .iter()
            .map(|word| {
                let word = u32::from_ne_bytes(*word);
                (word & 0xffff) + (word >> 16)
            })
            .sum();
        total += u64::from(block_sum);
    }
    total
}

/// Folds a running sum to 16 bits with end-around carries (RFC 1071 §4.1), in the byte
/// order [`sum`] used: `to_ne_bytes` of the result is the sum in network order.
pub(crate) fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The sum of the TCP pseudo-header (RFC 9293 §3.1): both addresses, the protocol and
/// the TCP length.
pub(crate) fn pseudo_header(src: [u8; 4], dst: [u8; 4], tcp_len: u16) -> u64 {
    let [hi, lo] = tcp_len.to_be_bytes();
    let rest = [0, super::wire::IP_PROTO_TCP, hi, lo];
    u64::from(u32::from_ne_bytes(src))
        + u64::from(u32::from_ne_bytes(dst))
        + u64::from(u32::from_ne_bytes(rest))
}

/// The checksum field for a range whose field is still zero, in network byte order.
pub(crate) fn field(sum: u64) -> [u8; 2] {
    (!fold(sum)).to_ne_bytes()
}

/// Whether a range that includes its checksum field verifies: its sum is all ones
/// (RFC 1071 §1, the receiver's check).
pub(crate) fn verifies(sum: u64) -> bool {
    fold(sum) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folded sum as the big-endian number it is on the wire.
    fn wire(folded: u16) -> u16 {
        u16::from_be_bytes(folded.to_ne_bytes())
    }

    /// The sum one 16-bit big-endian word at a time, as RFC 1071 §4.1 writes it.
    fn reference(data: &[u8]) -> u16 {
        let mut sum = 0u64;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
            sum += u64::from(word);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    /// RFC 1071 §3's example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    #[test]
    fn rfc_1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(wire(fold(sum(&data))), 0xddf2);
    }

    /// Every length from 0 to 300, including odd ones, against the word-by-word sum.
    #[test]
    fn matches_the_reference_at_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 167 + 13) as u8).collect();
        for len in 0..data.len() {
            let ours = wire(fold(sum(&data[..len])));
            assert_eq!(ours, reference(&data[..len]), "length {len}");
        }
    }

    /// The portable loop agrees with the one `sum` picks for this CPU.
    #[test]
    fn every_variant_agrees() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in [0, 1, 2, 3, 63, 64, 65, 1459, 1460, 5000] {
            assert_eq!(
                fold(sum(&data[..len])),
                fold(sum_words(&data[..len])),
                "length {len}"
            );
        }
    }

    /// All-ones bytes exercise the carries, over more than one block.
    #[test]
    fn carries_fold_back() {
        let data = vec![0xff; 2 * 4 * BLOCK_WORDS + 4 * STRIDE_WORDS + 35];
        assert_eq!(wire(fold(sum(&data))), reference(&data));
    }
}
