//! The development JWT secret: generated at first start, kept in the data directory with
//! owner-only permissions, reused afterwards so tokens survive restarts.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// Reads the secret at `path`, creating it (64 hex chars of OS randomness) when missing.
pub fn load_or_create(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    eprintln!(
        "WARNING: JWT_SECRET_KEY is not set; using a development secret generated and kept in {}. \
         Never run production like this: set JWT_SECRET_KEY (at least 32 random bytes).",
        path.display()
    );
    Ok(secret)
}
