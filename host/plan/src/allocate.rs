//! Global allocation: every proposal of every client in one order (priority, then
//! channel preference, client id, rank), spilled to sorted runs on disk and merged, so
//! memory holds one run and a few bytes per client, never the whole base. Greedy: a
//! proposal is accepted if its client has contacts left, a send day satisfies the
//! quiet days and the minimum gap, and its channel has capacity left.
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::config::PlanConfig;
use crate::output::{Outputs, Refusals};
use crate::state::ClientState;
use crate::PlanError;

/// Proposals sorted in memory before a run is spilled.
pub const RUN_LEN: usize = 1 << 20;

/// One proposal in the global order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cand {
    pub priority: f64,
    /// Channel index in preference order.
    pub pref: u8,
    pub rank: u8,
    pub offer: u16,
    pub treatment: u8,
    /// The client's position in the input (indexes per-client state).
    pub client: u32,
    pub selection_probability: f64,
    pub decision: [u8; 16],
    pub id: String,
}

/// The global order: highest priority first; ties by channel preference, client id, rank.
pub fn order(a: &Cand, b: &Cand) -> Ordering {
    b.priority.total_cmp(&a.priority).then(a.pref.cmp(&b.pref)).then_with(|| a.id.cmp(&b.id)).then(a.rank.cmp(&b.rank))
}

fn write_cand(w: &mut impl Write, c: &Cand) -> std::io::Result<()> {
    w.write_all(&c.priority.to_le_bytes())?;
    w.write_all(&[c.pref, c.rank, c.treatment])?;
    w.write_all(&c.offer.to_le_bytes())?;
    w.write_all(&c.client.to_le_bytes())?;
    w.write_all(&c.selection_probability.to_le_bytes())?;
    w.write_all(&c.decision)?;
    w.write_all(&(c.id.len() as u16).to_le_bytes())?;
    w.write_all(c.id.as_bytes())
}

fn read_cand(r: &mut impl Read) -> std::io::Result<Option<Cand>> {
    let mut head = [0u8; 8 + 3 + 2 + 4 + 8 + 16 + 2];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let f64_at = |i: usize| f64::from_le_bytes(head[i..i + 8].try_into().unwrap_or([0; 8]));
    let mut decision = [0u8; 16];
    decision.copy_from_slice(&head[25..41]);
    let len = u16::from_le_bytes([head[41], head[42]]) as usize;
    let mut id = vec![0u8; len];
    r.read_exact(&mut id)?;
    Ok(Some(Cand {
        priority: f64_at(0),
        pref: head[8],
        rank: head[9],
        treatment: head[10],
        offer: u16::from_le_bytes([head[11], head[12]]),
        client: u32::from_le_bytes([head[13], head[14], head[15], head[16]]),
        selection_probability: f64_at(17),
        decision,
        id: String::from_utf8(id).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
    }))
}

/// Sorted runs of proposals: the last one may still be in memory.
#[derive(Debug)]
pub struct Runs {
    dir: PathBuf,
    files: Vec<PathBuf>,
    buffer: Vec<Cand>,
    pub total: u64,
}

impl Runs {
    /// Runs spilled under `dir`.
    pub fn new(dir: &Path) -> Runs {
        Runs { dir: dir.to_path_buf(), files: Vec::new(), buffer: Vec::new(), total: 0 }
    }

    /// Adds a proposal; spills a sorted run when the buffer is full.
    pub fn push(&mut self, c: Cand) -> Result<(), PlanError> {
        self.buffer.push(c);
        self.total += 1;
        if self.buffer.len() >= RUN_LEN {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), PlanError> {
        use rayon::slice::ParallelSliceMut;
        self.buffer.par_sort_unstable_by(order);
        let path = self.dir.join(format!("run-{:05}.bin", self.files.len()));
        let io = |source| PlanError::Io { path: path.clone(), source };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        for c in self.buffer.drain(..) {
            write_cand(&mut w, &c).map_err(io)?;
        }
        w.flush().map_err(io)?;
        self.files.push(path);
        Ok(())
    }

    /// Every proposal, in the global order.
    pub fn merge(mut self) -> Result<Merge, PlanError> {
        use rayon::slice::ParallelSliceMut;
        self.buffer.par_sort_unstable_by(order);
        let mut sources: Vec<Source> = Vec::with_capacity(self.files.len() + 1);
        for path in &self.files {
            let f = File::open(path).map_err(|source| PlanError::Io { path: path.clone(), source })?;
            sources.push(Source::File(BufReader::with_capacity(1 << 16, f), path.clone()));
        }
        sources.push(Source::Memory(std::mem::take(&mut self.buffer).into_iter()));
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(c) = s.next()? {
                heap.push(Head(c, i));
            }
        }
        Ok(Merge { sources, heap })
    }
}

enum Source {
    File(BufReader<File>, PathBuf),
    Memory(std::vec::IntoIter<Cand>),
}

impl Source {
    fn next(&mut self) -> Result<Option<Cand>, PlanError> {
        match self {
            Source::File(r, path) => read_cand(r).map_err(|source| PlanError::Io { path: path.clone(), source }),
            Source::Memory(it) => Ok(it.next()),
        }
    }
}

struct Head(Cand, usize);

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    // BinaryHeap pops the greatest: the first in the global order.
    fn cmp(&self, other: &Self) -> Ordering {
        order(&other.0, &self.0)
    }
}

/// The k-way merge of the runs.
#[allow(missing_debug_implementations)]
pub struct Merge {
    sources: Vec<Source>,
    heap: BinaryHeap<Head>,
}

impl Merge {
    /// The next proposal in the global order.
    pub fn next_cand(&mut self) -> Result<Option<Cand>, PlanError> {
        let Some(Head(c, i)) = self.heap.pop() else { return Ok(None) };
        if let Some(n) = self.sources[i].next()? {
            self.heap.push(Head(n, i));
        }
        Ok(Some(c))
    }
}

/// What the allocation did.
#[derive(Debug, Default)]
pub struct Allocation {
    /// Contacts per channel (plan order).
    pub used: Vec<u64>,
    pub refused: Refusals,
    /// Contacts per (channel, offer index).
    pub per_offer: std::collections::BTreeMap<(u8, u16), u64>,
}

/// Walks `merge` once in the global order and accepts a proposal when its client has
/// contacts left, a send day exists and its channel has capacity; writes each accepted
/// contact. `state` is per client (`state.rs`): each check precedes the acceptance
/// that consumes it, so no cap can be exceeded.
pub fn greedy(
    mut merge: Merge,
    state: &mut [ClientState],
    config: &PlanConfig,
    bundle: &vitrine_engine::bundle::Bundle,
    out: &mut Outputs,
) -> Result<Allocation, PlanError> {
    let mut a = Allocation { used: vec![0; config.channels.len()], ..Allocation::default() };
    while let Some(c) = merge.next_cand()? {
        let st = &mut state[c.client as usize];
        let days = st.days();
        if st.contacts() >= config.max_contacts {
            a.refused.client_cap += 1;
            continue;
        }
        let ch = c.pref as usize;
        if a.used[ch] >= config.channels[ch].capacity {
            a.refused.channel_capacity += 1;
            st.refused_for_capacity();
            continue;
        }
        let Some(day) = config.first_free_day(days) else {
            a.refused.no_send_day += 1;
            continue;
        };
        st.contact_on(day);
        a.used[ch] += 1;
        *a.per_offer.entry((c.pref, c.offer)).or_default() += 1;
        let o = &bundle.offers[c.offer as usize];
        let treatment = o.treatments.get(c.treatment as usize).map_or("", |t| t.id.as_str());
        out.contact(
            ch,
            &c.id,
            &o.id,
            treatment,
            (config.start_day + day as i64) as i32,
            c.priority,
            c.selection_probability,
            &vitrine_base::hex::encode(&c.decision),
        )?;
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(i: u32, p: f64) -> Cand {
        Cand {
            priority: p,
            pref: (i % 3) as u8,
            rank: 1,
            offer: 0,
            treatment: 0,
            client: i,
            selection_probability: 0.5,
            decision: [i as u8; 16],
            id: format!("c-{i:07}"),
        }
    }

    #[test]
    fn spilled_runs_merge_in_the_global_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut runs = Runs::new(dir.path());
        let n = RUN_LEN * 2 + 1000;
        let mut all = Vec::with_capacity(n);
        for i in 0..n as u32 {
            // Many ties on priority, broken by preference and id.
            let c = cand(i, ((i.wrapping_mul(2_654_435_761)) % 97) as f64 / 7.0);
            all.push(c.clone());
            runs.push(c).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "two runs spilled, one in memory");
        all.sort_by(order);
        let mut merge = runs.merge().unwrap();
        let mut got = Vec::with_capacity(n);
        while let Some(c) = merge.next_cand().unwrap() {
            got.push(c);
        }
        assert_eq!(got.len(), all.len());
        assert!(got == all, "merge order differs from a full sort");
    }
}
