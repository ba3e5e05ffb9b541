//! Bring your own model (SPEC §10.4): users' own OpenAI-compatible endpoints, their keys
//! sealed at rest ([`cipher`]), guarded against server-side request forgery ([`endpoint`]),
//! routed per activity ([`router`]) and managed by owners and administrators ([`service`]).

pub mod cipher;
pub mod endpoint;
pub mod rotation;
pub mod router;
pub mod service;

pub use cipher::{key_id_of, CipherError, Keyring, KeyringError};
pub use endpoint::{check_base_url, EndpointError};
pub use rotation::{rotate, RotationReport};
pub use router::{CredentialRouter, CredentialSettings, Routed, RouterParts, SealedKey};
pub use service::{
    CredentialError, CredentialInput, CredentialPatch, CredentialService, LimitsPatch,
    MAX_KEY_BYTES,
};
