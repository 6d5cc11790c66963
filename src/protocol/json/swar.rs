//! Byte searches eight bytes at a time (SWAR: SIMD within a register), for the scans that read most of a record.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is below `n` (`n` <= 128); bytes with the high bit set never are.
#[inline(always)]
pub fn any_below(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0
}

/// Whether any byte of `word` is `byte`.
#[inline(always)]
pub fn any_equal(word: u64, byte: u8) -> bool {
    any_below(word ^ (ONES * u64::from(byte)), 1)
}

/// The eight bytes at `at` as one little-endian word, if there are eight.
#[inline(always)]
pub fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(word))
}

/// The index of the first `byte` in `bytes`.
pub fn find(bytes: &[u8], byte: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(word) = word_at(bytes, i) {
        if any_equal(word, byte) {
            break;
        }
        i += 8;
    }
    bytes.get(i..)?.iter().position(|&b| b == byte).map(|p| p + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_matches_a_plain_search_at_every_offset_and_length() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'x'; len];
                if at < len {
                    bytes[at] = 0x1e;
                }
                assert_eq!(find(&bytes, 0x1e), bytes.iter().position(|&b| b == 0x1e), "len {len}, at {at}");
            }
        }
        let high = [0x9e, 0xfe, 0x1f, 0x1d, 0x1e];
        assert_eq!(find(&high, 0x1e), Some(4));
    }

    #[test]
    fn any_below_ignores_high_bytes() {
        assert!(!any_below(u64::from_le_bytes([0x80, 0x90, 0xff, 0x20, 0x7f, 0x41, 0x22, 0x5c]), 0x20));
        assert!(any_below(u64::from_le_bytes([0x80, 0x90, 0xff, 0x20, 0x7f, 0x41, 0x1f, 0x5c]), 0x20));
    }
}
