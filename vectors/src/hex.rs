//! Byte strings in vector files: lowercase hex in JSON, `Vec<u8>` in Rust.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that serialize as a lowercase hex string. Parsing accepts only
/// lowercase hex of even length, so every committed file has one spelling.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex(pub Vec<u8>);

impl Hex {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for Hex {
    fn from(v: Vec<u8>) -> Self {
        Hex(v)
    }
}

impl From<&[u8]> for Hex {
    fn from(v: &[u8]) -> Self {
        Hex(v.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Hex {
    fn from(v: [u8; N]) -> Self {
        Hex(v.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Hex {
    fn from(v: &[u8; N]) -> Self {
        Hex(v.to_vec())
    }
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom("hex must be lowercase"));
        }
        hex::decode(text.as_ref())
            .map(Hex)
            .map_err(|e| serde::de::Error::custom(format!("invalid hex: {e}")))
    }
}
