//! SQLite databases per test: a file in a fresh temporary directory (so WAL and concurrent
//! connections are exercised), removed with the directory when the guard drops.

use std::path::{Path, PathBuf};

use uuid::Uuid;

/// A temporary directory of one test, removed (with everything in it) on drop. Not created
/// until something is written into it, so a store may create it itself.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh path under the system temporary directory, `ainative-<tag>-<uuid>`.
    pub fn new(tag: &str) -> Self {
        Self(std::env::temp_dir().join(format!("ainative-{tag}-{}", Uuid::new_v4().simple())))
    }

    /// The same, created now.
    pub fn create(tag: &str) -> Self {
        let dir = Self::new(tag);
        std::fs::create_dir_all(dir.path())
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.path().display()));
        dir
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.0.join(relative)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A SQLite database file of one test, in a directory (and a sub-directory) that does not
/// exist yet: opening it proves the store creates what it needs.
#[derive(Debug)]
pub struct TestSqlite {
    dir: TempDir,
    file: PathBuf,
}

impl TestSqlite {
    /// A fresh `…/nested/test.db` path.
    pub fn new() -> Self {
        let dir = TempDir::new("sqlite");
        let file = dir.join("nested").join("test.db");
        Self { dir, file }
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// `sqlite://<file>`.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.file.display())
    }

    /// The directory removed on drop.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }
}

impl Default for TestSqlite {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_goes_with_the_guard() {
        let db = TestSqlite::new();
        std::fs::create_dir_all(db.file().parent().expect("parent")).expect("mkdir");
        std::fs::write(db.file(), b"x").expect("write");
        assert!(db.url().starts_with("sqlite:///"));
        let dir = db.dir().path().to_owned();
        drop(db);
        assert!(!dir.exists());
    }
}
