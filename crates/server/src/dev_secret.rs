//! The development JWT secret: generated at first start, kept in the data directory with
//! owner-only permissions, reused afterwards so tokens survive restarts.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// Reads the secret at `path`, creating it (64 hex chars of OS randomness) when missing; `var`
/// is the variable that was not set.
pub fn load_or_create(path: &Path, var: &str) -> std::io::Result<String> {
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
        "WARNING: {var} is not set; using a development secret generated and kept in {}. \
         Never run production like this: set {var} (at least 32 random bytes).",
        path.display()
    );
    Ok(secret)
}

/// Reads the development signing key at `path`, generating one for `algorithm` (PKCS#8 PEM,
/// mode 0600) when the file is missing. A file holding another key type is an error, never
/// overwritten.
pub fn load_or_create_key(
    path: &Path,
    algorithm: ainative_auth::SigningAlgorithm,
) -> Result<ainative_auth::PrivateKey, String> {
    use secrecy::ExposeSecret;
    if path.exists() {
        return crate::keys::read_key(path);
    }
    let key = ainative_auth::PrivateKey::generate(algorithm).map_err(|e| e.to_string())?;
    write_private(path, key.to_pem().expose_secret().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "WARNING: JWT_PRIVATE_KEY_FILE is not set; signing tokens with a development {algorithm} key \
         generated into {} (kid {}). Never run production like this.",
        path.display(),
        key.kid()
    );
    Ok(key)
}

/// Writes `bytes` to a new file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// Reads the credentials encryption key (base64 of 32 bytes) at `path`, creating it when
/// missing or unreadable.
pub fn load_or_create_credentials_key(path: &Path) -> std::io::Result<String> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if STANDARD.decode(&existing).is_ok_and(|k| k.len() == 32) {
            return Ok(existing);
        }
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = STANDARD.encode(bytes);
    write_private(path, key.as_bytes())?;
    eprintln!(
        "WARNING: CREDENTIALS_ENCRYPTION_KEY is not set; using a development key generated and \
         kept in {}. Losing it makes every stored model credential unreadable. Never run \
         production like this: set CREDENTIALS_ENCRYPTION_KEY (openssl rand -base64 32).",
        path.display()
    );
    Ok(key)
}

#[cfg(test)]
mod credentials_key_tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    #[test]
    fn the_development_key_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("ainative-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("credentials_key");
        let first = load_or_create_credentials_key(&path).unwrap();
        assert_eq!(STANDARD.decode(&first).unwrap().len(), 32);
        assert_eq!(load_or_create_credentials_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
