//! The VarInt length prefix of MessagePack records: 7 bits per byte, least significant group first.

use crate::protocol::ProtocolError;

/// The largest record length the protocol allows.
pub const MAX_LENGTH: u32 = 0x7fff_ffff;

/// Appends `length` as a 1-5 byte VarInt.
pub fn write(out: &mut Vec<u8>, mut length: u32) {
    loop {
        let low = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Reads a VarInt from the start of `input`: `Ok(None)` when more bytes are needed, else the length and the
/// number of prefix bytes.
pub fn read(input: &[u8]) -> Result<Option<(u32, usize)>, ProtocolError> {
    let mut length: u64 = 0;
    for i in 0..5 {
        let Some(&b) = input.get(i) else {
            return Ok(None);
        };
        length |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            if length > MAX_LENGTH as u64 {
                return Err(ProtocolError::InvalidLength);
            }
            return Ok(Some((length as u32, i + 1)));
        }
    }
    Err(ProtocolError::InvalidLength)
}
