//! Signing key files: reading the configured ones and the `ainative keys` commands.

use std::path::Path;

use ainative_auth::{PrivateKey, SigningAlgorithm};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Settings;

/// Reads a PEM private key file.
pub fn read_key(path: &Path) -> Result<PrivateKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    PrivateKey::from_pem(&SecretString::from(text)).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ainative keys generate`: a new key as PEM into `out` (mode 0600) or onto standard output;
/// its `kid` on standard error.
pub fn generate(algorithm: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let algorithm: SigningAlgorithm = algorithm.parse()?;
    let key = PrivateKey::generate(algorithm)?;
    let pem = key.to_pem();
    match out {
        Some(path) => {
            if path.exists() {
                anyhow::bail!("{} exists; refusing to overwrite a key", path.display());
            }
            crate::dev_secret::write_private(path, pem.expose_secret().as_bytes())?;
            eprintln!(
                "wrote {} key {} to {}",
                algorithm,
                key.kid(),
                path.display()
            );
        }
        None => {
            print!("{}", pem.expose_secret());
            eprintln!("{} key {}", algorithm, key.kid());
        }
    }
    Ok(())
}

/// `ainative keys list`: the configured keys, current first, as `kid  alg  role`.
pub fn list(settings: &Settings) -> String {
    let codec = ainative_auth::TokenCodec::new(&crate::startup::jwt_settings(settings));
    let mut out = String::new();
    if let Some(ring) = codec.keys() {
        for key in ring.summaries() {
            let role = if key.current { "current" } else { "previous" };
            out.push_str(&format!("{}\t{}\t{}\n", key.kid, key.algorithm, role));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_writes_a_private_file_once() {
        let dir = std::env::temp_dir().join(format!("ainative-keygen-{}", uuid::Uuid::new_v4()));
        let path = dir.join("k.pem");
        generate("ES256", Some(&path)).expect("generates");
        let key = read_key(&path).expect("readable");
        assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(generate("EdDSA", Some(&path)).is_err(), "never overwrites");
        assert_eq!(read_key(&path).unwrap().kid(), key.kid());
        assert!(generate("HS256", None).is_err(), "HS256 has no key file");
        assert!(generate("none", None).is_err());
    }
}
