//! The clients spill: each client's id and decision id, in input order (pass 1 writes
//! it; the duplicate check and the uncontacted list read it back).
use std::io::{Read, Write};

/// Appends one client: id length (u16 LE), id bytes, the 16-byte decision id.
pub(super) fn write(w: &mut impl Write, id: &str, decision: &[u8; 16]) -> std::io::Result<()> {
    w.write_all(&(id.len() as u16).to_le_bytes())?;
    w.write_all(id.as_bytes())?;
    w.write_all(decision)
}

/// The next client, or `None` at the end.
pub(super) fn read(r: &mut impl Read) -> std::io::Result<Option<(String, [u8; 16])>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut id = vec![0u8; u16::from_le_bytes(len) as usize];
    let mut decision = [0u8; 16];
    r.read_exact(&mut id)?;
    r.read_exact(&mut decision)?;
    let id = String::from_utf8(id).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Some((id, decision)))
}
