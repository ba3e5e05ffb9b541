//! The little DER and PEM handling key files need: PEM armour, and the RSAPrivateKey inside
//! a PKCS#8 PrivateKeyInfo (jsonwebtoken signs RS256 from PKCS#1 DER).

use base64::Engine;

use super::KeyError;

const PKCS8_LABEL: &str = "PRIVATE KEY";
const PKCS1_LABEL: &str = "RSA PRIVATE KEY";

/// The DER inside a PEM block, and whether it is PKCS#1 (`RSA PRIVATE KEY`).
pub(super) struct Pem {
    pub der: Vec<u8>,
    pub pkcs1: bool,
}

/// Reads the first private-key PEM block of `text`.
pub(super) fn decode_pem(text: &str) -> Result<Pem, KeyError> {
    for (label, pkcs1) in [(PKCS8_LABEL, false), (PKCS1_LABEL, true)] {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let Some(start) = text.find(&begin) else {
            continue;
        };
        let body = &text[start + begin.len()..];
        let stop = body.find(&end).ok_or(KeyError::NotPem)?;
        let b64: String = body[..stop].split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| KeyError::NotPem)?;
        return Ok(Pem { der, pkcs1 });
    }
    Err(KeyError::NotPem)
}

/// PKCS#8 DER as a `PRIVATE KEY` PEM block (64-column lines, RFC 7468).
pub(super) fn encode_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {PKCS8_LABEL}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {PKCS8_LABEL}-----\n"));
    out
}

/// One DER element: (tag, contents, rest).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The `privateKey` OCTET STRING of a PKCS#8 PrivateKeyInfo (RFC 5208 §5).
pub(super) fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    let (tag, info, _) = element(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, _version, rest) = element(info)?;
    if tag != INTEGER {
        return None;
    }
    let (tag, _algorithm, rest) = element(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, key, _) = element(rest)?;
    (tag == OCTET_STRING).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_refuses_other_blocks() {
        let der = (0u8..=200).collect::<Vec<_>>();
        let pem = encode_pem(&der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back = decode_pem(&format!("junk before\n{pem}")).expect("pem");
        assert_eq!(back.der, der);
        assert!(!back.pkcs1);
        let public = pem.replace("PRIVATE KEY", "PUBLIC KEY");
        assert!(matches!(decode_pem(&public), Err(KeyError::NotPem)));
        assert!(matches!(decode_pem(""), Err(KeyError::NotPem)));
    }

    #[test]
    fn truncated_der_is_refused_not_panicking() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 2, 1],
        ] {
            assert!(pkcs8_private_key(input).is_none(), "{input:?}");
        }
    }
}
