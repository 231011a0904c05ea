//! The clients spill: each client's id and decision id, in input order (pass 1 writes
//! it; the duplicate check, the client-id ranks and pass 3 read it back).
use std::io::{Read, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::{io, PlanError};

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

/// Each client's position in client-id order (the allocation's tie-break), from the
/// clients spill.
pub(crate) fn rank_ids(spill: &Path, n: usize) -> Result<Vec<u32>, PlanError> {
    let mut r = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(spill).map_err(io(spill))?);
    let mut ids = Vec::with_capacity(n);
    while let Some((id, _)) = read(&mut r).map_err(io(spill))? {
        ids.push(id);
    }
    let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
    by_id.par_sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
    let mut rank = vec![0u32; ids.len()];
    for (r, &c) in by_id.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    Ok(rank)
}

pub(crate) fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}
/// Refuses an input that names a client twice (an export concatenated with itself, say):
/// equal hashes are confirmed against the ids in the clients spill.
pub(crate) fn check_unique(mut hashes: Vec<u64>, spill: &Path) -> Result<(), PlanError> {
    hashes.par_sort_unstable();
    let suspects: std::collections::HashSet<u64> = hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(hashes);
    if suspects.is_empty() {
        return Ok(());
    }
    let io = |source| PlanError::Io { path: spill.to_path_buf(), source };
    let mut r = std::io::BufReader::new(std::fs::File::open(spill).map_err(io)?);
    let mut seen = std::collections::HashSet::new();
    while let Some((id, _)) = read(&mut r).map_err(io)? {
        if suspects.contains(&id_hash(&id)) && !seen.insert(id.clone()) {
            return Err(PlanError::DuplicateClient(id));
        }
    }
    Ok(())
}
