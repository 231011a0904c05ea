//! Experiment arms: a salted hash of the subject, stable across requests and
//! recomputable by anyone who has the subject's pseudonym and the bundle's salt.
//!
//! `u = first 8 bytes of SHA-256("vitrine/arm/v1\0" ‖ salt ‖ "\0" ‖ subject)` read as a
//! little-endian `u64`, shifted right by 11 and divided by 2^53 (a uniform number in
//! [0, 1)). `u < no_contact` → `no_contact`; `u < no_contact + bau` → `bau`; else
//! `personalised`.
use serde::{Deserialize, Serialize};

/// The arm a client is assigned to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The engine's policy.
    Personalised,
    /// Business as usual: the rule-based ranking (non-personal eligibility, a fixed
    /// priority per offer, no models, no exploration).
    Bau,
    /// The true control: no commercial offer, no outbound contact.
    NoContact,
}

impl Arm {
    /// Every arm, in report order.
    pub const ALL: [Arm; 3] = [Arm::Personalised, Arm::Bau, Arm::NoContact];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Personalised => "personalised",
            Arm::Bau => "bau",
            Arm::NoContact => "no_contact",
        }
    }
}

/// The bundle's arm shares.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Arms {
    pub salt: String,
    /// Share of subjects in `bau`.
    pub bau: f32,
    /// Share of subjects in `no_contact`.
    pub no_contact: f32,
    /// Whether service actions stay on in the `no_contact` arm.
    pub no_contact_services: bool,
}

impl Default for Arms {
    fn default() -> Self {
        Arms { salt: String::new(), bau: 0.0, no_contact: 0.0, no_contact_services: true }
    }
}

impl Arms {
    /// The arm of `subject`.
    pub fn assign(&self, subject: &[u8]) -> Arm {
        assign(subject, &self.salt, self.bau, self.no_contact)
    }

    /// The personalised share (what is left).
    pub fn personalised(&self) -> f32 {
        (1.0 - self.bau - self.no_contact).max(0.0)
    }

    /// The share of `arm`.
    pub fn share(&self, arm: Arm) -> f32 {
        match arm {
            Arm::Personalised => self.personalised(),
            Arm::Bau => self.bau,
            Arm::NoContact => self.no_contact,
        }
    }
}

/// The arm of `subject` under `salt` with the given shares (see the module docs).
pub fn assign(subject: &[u8], salt: &str, bau: f32, no_contact: f32) -> Arm {
    if bau <= 0.0 && no_contact <= 0.0 {
        return Arm::Personalised;
    }
    let u = uniform(subject, salt);
    if u < no_contact as f64 {
        Arm::NoContact
    } else if u < no_contact as f64 + bau as f64 {
        Arm::Bau
    } else {
        Arm::Personalised
    }
}

/// The subject's uniform number in [0, 1) under `salt`.
pub fn uniform(subject: &[u8], salt: &str) -> f64 {
    let h = crate::sha256(b"vitrine/arm/v1\0", &[salt.as_bytes(), b"\0", subject]);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}
