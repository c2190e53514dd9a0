//! Sending and receiving chains: `KDF_CK` (Double Ratchet spec §2.2, §5.2).

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::consts::KEY_LEN;
use crate::primitives::hmac_sha256_twice;
use crate::root_key::secret_key;

secret_key!(
    /// A chain key `CK` (sending or receiving).
    ChainKey
);

secret_key!(
    /// A message key `mk`: used for exactly one message, then deleted.
    MessageKey
);

/// HMAC input that derives the message key.
pub(crate) const MESSAGE_KEY_CONSTANT: u8 = 0x01;
/// HMAC input that derives the next chain key.
pub(crate) const CHAIN_KEY_CONSTANT: u8 = 0x02;

/// `KDF_CK(ck)`: HMAC-SHA256 keyed by `ck`; input 0x01 gives the message key,
/// input 0x02 the next chain key.
/// HMAC is keyed once and the keyed state cloned for the two inputs.
pub(crate) fn kdf_ck(ck: &ChainKey) -> (ChainKey, MessageKey) {
    let mut next = ChainKey([0; KEY_LEN]);
    let mut mk = MessageKey([0; KEY_LEN]);
    hmac_sha256_twice(
        ck.as_bytes(),
        (&[CHAIN_KEY_CONSTANT], &mut next.0),
        (&[MESSAGE_KEY_CONSTANT], &mut mk.0),
    );
    (next, mk)
}
