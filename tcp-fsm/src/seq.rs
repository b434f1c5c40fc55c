//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
//!
//! Sequence numbers wrap, so "less than" means "less than by fewer than 2^31". Every
//! comparison in the engine goes through these helpers rather than through `<` on raw
//! `u32`s, which would break at the wrap.

/// `a < b` in sequence space.
pub fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space.
pub fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `a > b` in sequence space.
pub fn gt(a: u32, b: u32) -> bool {
    lt(b, a)
}

/// `a >= b` in sequence space.
pub fn ge(a: u32, b: u32) -> bool {
    le(b, a)
}

/// `lo <= x < hi` in sequence space.
pub fn in_range(lo: u32, x: u32, hi: u32) -> bool {
    le(lo, x) && lt(x, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_survive_the_wrap() {
        assert!(lt(u32::MAX, 0));
        assert!(gt(5, u32::MAX - 5));
        assert!(le(7, 7) && ge(7, 7));
        assert!(in_range(u32::MAX - 1, 2, 10));
        assert!(!in_range(10, 2, 20));
    }
}
