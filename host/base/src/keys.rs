//! Ed25519 key pairs with a role: `bundle` keys sign bundles, `snapshot` keys sign
//! per-client snapshots. Keeping the roles apart means a leaked snapshot key cannot
//! sign a bundle. Files (JSON): `KID.key` (secret, mode 0600) and `KID.pub` (public,
//! what bundles and hosts are configured with).
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

/// What a key may sign.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Bundle,
    Snapshot,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Bundle => "bundle",
            Role::Snapshot => "snapshot",
        })
    }
}

/// Errors handling key files.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a Vitrine key file: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: this is a {found} key; {wanted} keys are needed here")]
    WrongRole { path: PathBuf, found: Role, wanted: Role },
    #[error("key id `{0}` must be 1 to 32 characters of [A-Za-z0-9._-]")]
    BadKid(String),
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    #[error("no entropy from the operating system: {0}")]
    Entropy(String),
}

impl KeyError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Io { .. } => "key_io",
            KeyError::Malformed { .. } => "key_malformed",
            KeyError::WrongRole { .. } => "key_wrong_role",
            KeyError::BadKid(_) => "key_bad_kid",
            KeyError::Exists(_) => "key_exists",
            KeyError::Entropy(_) => "key_entropy",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    kid: String,
    role: Role,
    secret_key: String,
    public_key: String,
}

/// A public key file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    pub kid: String,
    pub role: Role,
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key: String,
}

impl PublicKey {
    /// The raw key bytes.
    pub fn bytes(&self, path: &Path) -> Result<[u8; 32], KeyError> {
        crate::hex::decode::<32>(&self.public_key)
            .ok_or_else(|| KeyError::Malformed { path: path.to_path_buf(), reason: "public_key must be 64 hex characters".into() })
    }
}

/// A loaded secret key with its id.
#[derive(Debug)]
pub struct Secret {
    pub kid: String,
    pub role: Role,
    pub key: SigningKey,
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    let ok = !kid.is_empty() && kid.len() <= 32 && kid.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadKid(kid.to_string()))
    }
}

/// Generates a key pair in `dir` as `KID.key` (0600) and `KID.pub`; returns both paths.
pub fn generate(kid: &str, role: Role, dir: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
    check_kid(kid)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (secret_path, public_path) = (dir.join(format!("{kid}.key")), dir.join(format!("{kid}.pub")));
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(KeyError::Exists(p.clone()));
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Entropy(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let public = crate::hex::encode(&key.verifying_key().to_bytes());
    let secret = SecretFile { kid: kid.into(), role, secret_key: crate::hex::encode(&seed), public_key: public.clone() };
    let json = serde_json::to_string_pretty(&secret).unwrap_or_default() + "\n";
    write_private(&secret_path, json.as_bytes()).map_err(io(&secret_path))?;
    let pub_json = serde_json::to_string_pretty(&PublicKey { kid: kid.into(), role, public_key: public }).unwrap_or_default() + "\n";
    std::fs::write(&public_path, pub_json).map_err(io(&public_path))?;
    Ok((secret_path, public_path))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Loads a secret key and checks its role.
pub fn load_secret(path: &Path, wanted: Role) -> Result<Secret, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?;
    let bad = |reason: String| KeyError::Malformed { path: path.to_path_buf(), reason };
    let f: SecretFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    check_kid(&f.kid)?;
    if f.role != wanted {
        return Err(KeyError::WrongRole { path: path.to_path_buf(), found: f.role, wanted });
    }
    let seed = crate::hex::decode::<32>(&f.secret_key).ok_or_else(|| bad("secret_key must be 64 hex characters".into()))?;
    let key = SigningKey::from_bytes(&seed);
    if crate::hex::encode(&key.verifying_key().to_bytes()) != f.public_key {
        return Err(bad("public_key does not match secret_key".into()));
    }
    Ok(Secret { kid: f.kid, role: f.role, key })
}

/// Loads a public key file and checks its role.
pub fn load_public(path: &Path, wanted: Role) -> Result<PublicKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?;
    let f: PublicKey = serde_json::from_str(&text).map_err(|e| KeyError::Malformed { path: path.to_path_buf(), reason: e.to_string() })?;
    check_kid(&f.kid)?;
    if f.role != wanted {
        return Err(KeyError::WrongRole { path: path.to_path_buf(), found: f.role, wanted });
    }
    f.bytes(path)?;
    Ok(f)
}
