//! Whole-or-nothing writes: everything is written under a temporary name beside its
//! destination and renamed into place only once complete, so a reader (or a crash)
//! sees the old file or the new one, never half of one.
use std::path::{Path, PathBuf};

/// A temporary file or folder beside `dest`, removed on drop unless committed.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Staged {
    /// A temporary path beside `dest` (`.<stem>.partial-<pid>[.<ext>]`, keeping the
    /// extension for writers that choose a format by it); nothing is created.
    pub fn beside(dest: &Path) -> Staged {
        let stem = dest.file_stem().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let ext = dest.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{stem}.partial-{}{ext}", std::process::id()));
        Staged { tmp, dest: dest.to_path_buf(), committed: false }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Where it goes.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Renames the temporary into place. An existing folder at the destination is
    /// moved aside first and removed only once the new one is in place.
    pub fn commit(mut self) -> std::io::Result<()> {
        if self.dest.is_dir() {
            let old = self.dest.with_file_name(format!(
                ".{}.old-{}",
                self.dest.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                std::process::id()
            ));
            std::fs::rename(&self.dest, &old)?;
            if let Err(e) = std::fs::rename(&self.tmp, &self.dest) {
                let _ = std::fs::rename(&old, &self.dest);
                return Err(e);
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.tmp, &self.dest)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            if self.tmp.is_dir() {
                let _ = std::fs::remove_dir_all(&self.tmp);
            } else {
                let _ = std::fs::remove_file(&self.tmp);
            }
        }
    }
}

/// Writes `bytes` to `path` whole or not at all (synced before the rename).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let staged = Staged::beside(path);
    let mut f = std::fs::File::create(staged.path())?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    staged.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_an_uncommitted_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        {
            let s = Staged::beside(&p);
            std::fs::write(s.path(), b"half").unwrap();
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary is gone");
    }

    #[test]
    fn a_folder_is_replaced_only_once_the_new_one_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("old.csv"), "old").unwrap();
        let s = Staged::beside(&p);
        std::fs::create_dir(s.path()).unwrap();
        std::fs::write(s.path().join("new.csv"), "new").unwrap();
        s.commit().unwrap();
        assert!(p.join("new.csv").exists() && !p.join("old.csv").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
