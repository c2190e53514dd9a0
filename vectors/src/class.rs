//! The error classes vectors, the runner and implementations agree on.
//!
//! Implementations report errors their own way; the harness compares only
//! the class. The names are the vector files' and the shim protocol's
//! (`authentication`, `too_many_skipped`, …), so this type has no
//! dependency beyond serde: a reader of the vectors needs nothing else.
//! An unknown name is an error, never a silent default: a class this
//! reader does not know cannot be judged.

use serde::{Deserialize, Serialize};

/// Why an implementation refused an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Tag or signature verification failed.
    Authentication,
    /// Replay of an already-decrypted message (its key is gone).
    Duplicate,
    /// A skip limit was exceeded.
    TooManySkipped,
    /// Bytes that do not parse.
    Malformed,
    /// A bad public key (length, small order), signature length or prekey reference.
    InvalidKey,
    /// A version or feature the implementation does not support.
    Unsupported,
    /// Misuse of the API (sending before a chain exists, bad state bytes, bad configuration).
    State,
}

impl ErrorClass {
    /// Every class, in a stable order.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Authentication,
        ErrorClass::Duplicate,
        ErrorClass::TooManySkipped,
        ErrorClass::Malformed,
        ErrorClass::InvalidKey,
        ErrorClass::Unsupported,
        ErrorClass::State,
    ];

    /// The stable name used in vector files and the shim protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Authentication => "authentication",
            ErrorClass::Duplicate => "duplicate",
            ErrorClass::TooManySkipped => "too_many_skipped",
            ErrorClass::Malformed => "malformed",
            ErrorClass::InvalidKey => "invalid_key",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::State => "state",
        }
    }

    /// Parses the name produced by [`ErrorClass::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl core::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_name() {
        for class in ErrorClass::ALL {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.as_str()));
            assert_eq!(serde_json::from_str::<ErrorClass>(&json).unwrap(), class);
            assert_eq!(ErrorClass::from_name(class.as_str()), Some(class));
        }
    }

    #[test]
    fn an_unknown_name_is_refused() {
        assert!(serde_json::from_str::<ErrorClass>("\"timeout\"").is_err());
        assert_eq!(ErrorClass::from_name("Authentication"), None);
    }
}
