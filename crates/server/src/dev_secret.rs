//! Development secrets: generated at first start, kept in the data directory with
//! owner-only permissions, reused afterwards so tokens and sealed credentials survive
//! restarts.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

/// Reads the secret at `path`, creating it (64 hex chars of OS randomness) when missing.
pub fn load_or_create(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let bytes = random_32();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret)?;
    eprintln!(
        "WARNING: JWT_SECRET_KEY is not set; using a development secret generated and kept in {}. \
         Never run production like this: set JWT_SECRET_KEY (at least 32 random bytes).",
        path.display()
    );
    Ok(secret)
}

/// Reads the credentials encryption key (base64 of 32 bytes) at `path`, creating it when
/// missing or unreadable.
pub fn load_or_create_key(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if STANDARD.decode(&existing).is_ok_and(|k| k.len() == 32) {
            return Ok(existing);
        }
    }
    let key = STANDARD.encode(random_32());
    write_private(path, &key)?;
    eprintln!(
        "WARNING: CREDENTIALS_ENCRYPTION_KEY is not set; using a development key generated and \
         kept in {}. Losing it makes every stored model credential unreadable. Never run \
         production like this: set CREDENTIALS_ENCRYPTION_KEY (openssl rand -base64 32).",
        path.display()
    );
    Ok(key)
}

fn random_32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_key_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("ainative-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("credentials_key");
        let first = load_or_create_key(&path).unwrap();
        assert_eq!(STANDARD.decode(&first).unwrap().len(), 32);
        assert_eq!(load_or_create_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
