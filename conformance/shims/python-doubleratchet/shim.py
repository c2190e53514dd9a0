#!/usr/bin/env python3
"""ratchetproof shim for python-doubleratchet (PyPI `DoubleRatchet`, by Syndace),
with X3DH from the same author's PyPI `x3dh`.

The package is a generic Double Ratchet: the application supplies the root and
message-chain KDFs, the AEAD, the header/AD encoding and the key generator.
This shim configures it to ratchetproof's default suite, x25519-sha256-aes256gcm
(docs/SPEC.md), using the package's own building blocks wherever one fits:

  KDF_RK        doubleratchet.recommended.kdf_hkdf.KDF, SHA-256, info INFO_ROOT
                (HKDF salt = RK, ikm = DH output: SPEC 3.1)
  KDF_CK        doubleratchet.recommended.kdf_separate_hmacs.KDF, SHA-256, chain
                constant b"\\x02\\x01": output = HMAC(ck,0x02) || HMAC(ck,0x01), and
                KDFChain keeps the first half as the next chain key (SPEC 3.2)
  message keys  kdf_hkdf.KDF, salt 0x00*32, ikm mk, info INFO_MESSAGE_KEYS, 44 bytes
  AEAD          AES-256-GCM (cryptography's AESGCM), key || nonce from the above
  AD            u32be(len(ad)) || ad || 0x01 || dh || u32be(pn) || u32be(n) (SPEC 4.3)
  wire format   0x01 || header || ciphertext || tag (SPEC 4.2), parsed in that order
  DH            doubleratchet.recommended.diffie_hellman_ratchet_curve25519, with
                _generate_priv replaced by the session's injected key list

Role-named key injection: entry k of a party's list is the key of its k-th
*committed* DH ratchet step. The package, like the spec's pseudocode, draws a
new ratchet key before the message authenticates and discards the whole state
copy on failure; the shim therefore rewinds the key list when a decryption
raises, so a rejected message consumes no key (vectors/README.md).

Session lifecycle: the package has no RatchetInitBob. Bob's session is created
by `DoubleRatchet.decrypt_initial_message` from his first received message, so
the shim keeps Bob's inputs until then (sending before that is the `state`
error the vectors expect). Alice's session is the package's own
`DiffieHellmanRatchet.create(None, ...)` state, wrapped with `from_model`, which
is what `encrypt_initial_message` builds before it encrypts. Clone is the
package's `json` / `from_json` round trip.

X3DH (groups `x3dh`, `x3dh_accept`) is the author's separate package `x3dh`
(PyPI; its XEdDSA and X25519 come from `xeddsa`, bindings to libxeddsa and
libsodium). Its hooks, set to SPEC.md section 6:

  identity key format  IdentityKeyFormat.CURVE_25519: bundles and headers carry the
                       bare 32-byte u (SPEC 6.4); Bob's identity key is converted to
                       Ed25519 with sign bit 0 for verification ([XEdDSA] 2.3)
  _encode_public_key   0x05 || u for every key (SPEC 2.3): the signed message
                       Encode(SPKb) and both halves of the AD
  hash function        HashFunction.SHA_256: HKDF-SHA256, salt 0x00*32, and the
                       package's own F = 0xFF*32 prefix (SPEC 6.2 step 4)
  info                 INFO_X3DH (SPEC 3.4)
  AD                   Encode(IKa) || Encode(IKb), associated_data_appendix empty
                       (SPEC 6.3); the package orders it by role, Alice first
  signature scheme     fixed by the package: XEdDSA verification as libsodium's
                       crypto_sign_verify_detached under the converted key (SPEC 7.2)
  require_pre_key      False: an agreement without a one-time prekey is legal (SPEC 6.2)
  state class          BaseState, not State: the application deletes a used
                       one-time prekey, after the first message decrypted (SPEC 6.5);
                       `--prekey-store state` drives x3dh_accept with the package's
                       managed State instead, which deletes it before (finding F8)

Keys are injected: identity, signed and one-time prekeys through the
package's `from_model` (IdentityKeyPairModel with secret_type PRIV: the 32
bytes are the X25519 private key, clamped on use as in SPEC 2.1), Alice's
ephemeral key through the `secrets` name of `x3dh.base_state`, the only
randomness `get_shared_secret_active` draws. The package names prekeys by
public key and defines no wire format for its header: the shim parses the
suite's initial message (SPEC 6.4) and keeps the id -> public key table an
application keeps.

Protocol: docs/SHIM.md (JSON lines on stdin/stdout; logs go to stderr).
"""

import asyncio
import json
import secrets
import struct
import sys
import time
import traceback

import cryptography
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import x3dh
import xeddsa
from x3dh import BaseState, Bundle, IdentityKeyFormat, KeyAgreementException, State
from x3dh import Header as X3dhHeader
from x3dh import HashFunction as X3dhHash
from x3dh import base_state as x3dh_base_state
from x3dh.models import BaseStateModel, IdentityKeyPairModel, SignedPreKeyPairModel
from x3dh.types import SecretType

import doubleratchet
from doubleratchet import (
    AEAD, AuthenticationFailedException, Chain, ChainNotAvailableException,
    DecryptionFailedException, DoSProtectionException, DoubleRatchet, DoubleRatchetModel,
    DuplicateMessageException, EncryptedMessage, Header, KDFChain, SymmetricKeyRatchet,
)
from doubleratchet.recommended import HashFunction, kdf_hkdf, kdf_separate_hmacs
from doubleratchet.recommended.diffie_hellman_ratchet_curve25519 import (
    DiffieHellmanRatchet as Curve25519Ratchet,
)

SUITE = "x25519-sha256-aes256gcm"
INFO_X3DH = b"ratchetproof/x25519-sha256-aes256gcm/x3dh"
INFO_ROOT = b"ratchetproof/x25519-sha256-aes256gcm/root"
INFO_MESSAGE_KEYS = b"ratchetproof/x25519-sha256-aes256gcm/message-keys"
CHAIN_CONSTANT = b"\x02\x01"
VERSION = 0x01
HEADER_LEN = 40
MIN_MESSAGE_LEN = 1 + HEADER_LEN + 16
DEFAULT_MAX_SKIP = 2000
DEFAULT_MAX_STORED = 4000


class Refused(Exception):
    """A refusal the shim itself raises, with its ratchetproof error class."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


# --- the suite, as python-doubleratchet hooks -------------------------------

class RootKdf(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function():
        return HashFunction.SHA_256

    @staticmethod
    def _get_info():
        return INFO_ROOT


class ChainKdf(kdf_separate_hmacs.KDF):
    @staticmethod
    def _get_hash_function():
        return HashFunction.SHA_256


class MessageKeyKdf(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function():
        return HashFunction.SHA_256

    @staticmethod
    def _get_info():
        return INFO_MESSAGE_KEYS


async def expand_message_key(mk):
    if len(mk) != 32:
        raise ValueError(f"a message key is 32 bytes, got {len(mk)}")
    okm = await MessageKeyKdf.derive(b"\x00" * 32, mk, 44)
    return okm[:32], okm[32:]


class Aes256Gcm(AEAD):
    @staticmethod
    async def encrypt(plaintext, key, associated_data):
        aes_key, nonce = await expand_message_key(key)
        return AESGCM(aes_key).encrypt(nonce, plaintext, associated_data)

    @staticmethod
    async def decrypt(ciphertext, key, associated_data):
        aes_key, nonce = await expand_message_key(key)
        try:
            return AESGCM(aes_key).decrypt(nonce, ciphertext, associated_data)
        except InvalidTag as e:
            raise AuthenticationFailedException("AES-GCM tag does not verify") from e


class KeyList:
    """The injected ratchet private keys of one session, handed out in order.

    Past the end of the list it hands out a placeholder (32 zero bytes, as the
    reference's KeyQueueRng does) instead of raising: the package draws a key
    for a DH ratchet step *before* the message authenticates, and the vectors
    list keys only for committed steps, so a rejected message may need one
    key more than the list holds. Raising there would turn the package's
    authentication failure into a shim error. If a decryption that used a
    placeholder *succeeds*, the package committed a step the reference did
    not; the shim reports the package's answer and notes it on stderr.
    """

    PLACEHOLDER = bytes(32)

    def __init__(self, keys):
        self.keys, self.next = list(keys), 0

    def take(self):
        self.next += 1
        if self.next > len(self.keys):
            return self.PLACEHOLDER
        return self.keys[self.next - 1]

    def overdrawn(self):
        return self.next > len(self.keys)


ACTIVE_KEYS = [KeyList([])]  # the key list of the session being driven


class InjectedCurve25519Ratchet(Curve25519Ratchet):
    @staticmethod
    def _generate_priv():
        return ACTIVE_KEYS[0].take()


def encode_header(header):
    if len(header.ratchet_pub) != 32:
        raise ValueError(f"a ratchet public key is 32 bytes, got {len(header.ratchet_pub)}")
    return header.ratchet_pub + struct.pack(
        ">II", header.previous_sending_chain_length, header.sending_chain_length)


class SuiteRatchet(DoubleRatchet):
    @staticmethod
    def _build_associated_data(associated_data, header):
        return (struct.pack(">I", len(associated_data)) + associated_data
                + bytes([VERSION]) + encode_header(header))


def to_wire(message):
    return bytes([VERSION]) + encode_header(message.header) + message.ciphertext


def from_wire(data):
    if not data:
        raise Refused("malformed", "empty message")
    if data[0] != VERSION:
        raise Refused("unsupported", f"message version {data[0]}")
    if len(data) < MIN_MESSAGE_LEN:
        raise Refused("malformed", f"a message is at least {MIN_MESSAGE_LEN} bytes, got {len(data)}")
    pn, n = struct.unpack(">II", data[33:41])
    return EncryptedMessage(header=Header(data[1:33], pn, n), ciphertext=data[41:])


def params(session):
    return dict(
        diffie_hellman_ratchet_class=InjectedCurve25519Ratchet,
        root_chain_kdf=RootKdf,
        message_chain_kdf=ChainKdf,
        message_chain_constant=CHAIN_CONSTANT,
        dos_protection_threshold=session.max_skip,
        max_num_skipped_message_keys=session.max_stored,
        aead=Aes256Gcm,
    )


# --- sessions ---------------------------------------------------------------

class Session:
    def __init__(self, keys, max_skip, max_stored):
        self.keys = KeyList(keys)
        self.max_skip, self.max_stored = max_skip, max_stored
        self.ratchet = None        # the package's DoubleRatchet, once it exists
        self.bob_inputs = None     # (SK, ratchet private key) until Bob's first message


SESSIONS = {}


def session(req):
    s = SESSIONS.get(req["session"])
    if s is None:
        raise Refused("state", f"no session {req['session']}")
    ACTIVE_KEYS[0] = s.keys
    return s


def add(s):
    handle = len(SESSIONS)
    while handle in SESSIONS:
        handle += 1
    SESSIONS[handle] = s
    return {"session": handle}


def b(req, field):
    return bytes.fromhex(req[field])


async def init_session(req):
    if req["suite"] != SUITE:
        raise Refused("unsupported", f"suite {req['suite']}")
    s = Session([bytes.fromhex(k) for k in req["ratchetPrivateKeys"]],
                req.get("maxSkip", DEFAULT_MAX_SKIP), req.get("maxStoredSkippedKeys", DEFAULT_MAX_STORED))
    sk, key = b(req, "sharedKey"), b(req, "ratchetKey")
    if len(sk) != 32:  # the package's own check, which it makes only on first use for Bob
        raise ValueError("The shared secret must consist of 32 bytes.")
    ACTIVE_KEYS[0] = s.keys
    if req["role"] == "alice":
        if not s.keys.keys:
            raise Refused("state", "the vector supplied no key for RatchetInitAlice")
        dh = await InjectedCurve25519Ratchet.create(
            None, key, RootKdf, sk, ChainKdf, CHAIN_CONSTANT, s.max_skip)
        model = DoubleRatchetModel(diffie_hellman_ratchet=dh.model, skipped_message_keys=[])
        s.ratchet = SuiteRatchet.from_model(model, **params(s))
    elif req["role"] == "bob":
        if len(key) != 32:
            raise ValueError("a ratchet private key is 32 bytes")
        s.bob_inputs = (sk, key)
    else:
        raise Refused("unsupported", f"role {req['role']}")
    return add(s)


async def encrypt(req):
    s = session(req)
    if s.ratchet is None:
        raise Refused("state", "no sending chain: the package creates Bob's session from his first received message")
    return {"message": to_wire(await s.ratchet.encrypt_message(b(req, "plaintext"), b(req, "ad"))).hex()}


async def decrypt(req):
    s = session(req)
    message, ad = from_wire(b(req, "message")), b(req, "ad")
    rewind = s.keys.next
    try:
        if s.ratchet is None:
            sk, priv = s.bob_inputs
            s.ratchet, plaintext = await SuiteRatchet.decrypt_initial_message(
                shared_secret=sk, own_ratchet_priv=priv, message=message, associated_data=ad, **params(s))
        else:
            plaintext = await s.ratchet.decrypt_message(message, ad)
    except BaseException:
        s.keys.next = rewind
        raise
    if s.keys.overdrawn():
        print(f"shim: a decryption committed more DH ratchet steps than the vector has keys for "
              f"({s.keys.next} > {len(s.keys.keys)}); a placeholder key is in use", file=sys.stderr)
    return {"plaintext": plaintext.hex()}


async def clone_session(req):
    s = session(req)
    copy = Session([bytes.fromhex(k) for k in req["ratchetPrivateKeys"]], s.max_skip, s.max_stored)
    copy.bob_inputs = s.bob_inputs
    if s.ratchet is not None:
        copy.ratchet = SuiteRatchet.from_json(s.ratchet.json, **params(s))
    return add(copy)


async def export_state(req):
    """The session as the package itself serializes it (`DoubleRatchet.json`,
    pydantic's JSON of its model): what an application stores. Before Bob's
    first message the package has no session yet; the application then holds
    only SK and his ratchet private key, exported as such."""
    s = session(req)
    if s.ratchet is None:
        sk, priv = s.bob_inputs
        data = {"sharedKey": sk.hex(), "ratchetPrivateKey": priv.hex()}
    else:
        data = s.ratchet.json
    return {"state": json.dumps(data, sort_keys=True, default=str).encode().hex()}


# --- primitives, through the same package objects ---------------------------

def check_suite(req):
    if req["suite"] != SUITE:
        raise Refused("unsupported", f"suite {req['suite']}")


async def kdf_rk(req):
    check_suite(req)
    rk, dh = b(req, "rootKey"), b(req, "dhOutput")
    # KDFChain takes keys of any length; DiffieHellmanRatchet.create checks the
    # first root key, and X25519 outputs are 32 bytes, so check both here.
    if len(rk) != 32 or len(dh) != 32:
        raise ValueError("root key and DH output are 32 bytes")
    chain = KDFChain.create(RootKdf, rk)
    ck = await chain.step(dh, 32)
    return {"rootKey": chain.model.key.hex(), "chainKey": ck.hex()}


async def kdf_ck(req):
    check_suite(req)
    ratchet = SymmetricKeyRatchet.create(ChainKdf, CHAIN_CONSTANT)
    ratchet.replace_chain(Chain.RECEIVING, b(req, "chainKey"))  # raises ValueError unless 32 bytes
    mk = await ratchet.next_decryption_key()
    return {"chainKey": ratchet.model.receiving_chain.key.hex(), "messageKey": mk.hex()}


async def message_keys(req):
    check_suite(req)
    key, nonce = await expand_message_key(b(req, "messageKey"))
    return {"keys": (key + nonce).hex()}


async def seal(req):
    check_suite(req)
    header = Header(b(req, "ratchetKey"), req["pn"], req["n"])
    ad = SuiteRatchet._build_associated_data(b(req, "ad"), header)
    ciphertext = await Aes256Gcm.encrypt(b(req, "plaintext"), b(req, "messageKey"), ad)
    return {"message": to_wire(EncryptedMessage(header=header, ciphertext=ciphertext)).hex()}


# --- X3DH, through the `x3dh` package ----------------------------------------

class SuiteX3dhState(BaseState):
    """The package's X3DH state with this suite's key encoding.

    `BaseState` (not its subclass `State`): `State` deletes a one-time prekey
    inside `get_shared_secret_passive`, before the application has decrypted
    the first message, and rotates and refills keys from its own randomness;
    `BaseState` leaves deletion to the application, which the shim does only
    after the first message decrypted (X3DH §3.4, SPEC.md §6.5 step 5)."""

    @staticmethod
    def _encode_public_key(key_format, pub):
        # SPEC.md §2.3: Encode(PK) = 0x05 || u. The package calls this for the
        # signed message (with CURVE_25519) and for both halves of the AD.
        return b"\x05" + pub


class InjectedSecrets:
    """Stands in for the `secrets` module inside `x3dh.base_state`, the only
    randomness `get_shared_secret_active` draws: `token_bytes(32)` is the
    ephemeral private key, `choice` picks the one-time prekey of the bundle
    (the shim's bundles hold at most one, so there is nothing to choose)."""

    def __init__(self, ephemeral):
        self.ephemeral = ephemeral

    def token_bytes(self, n):
        if self.ephemeral is None:
            raise Refused("state", f"the package drew {n} random bytes a second time")
        key, self.ephemeral = self.ephemeral, None
        return key

    @staticmethod
    def choice(seq):
        if len(seq) != 1:
            raise Refused("state", f"a bundle of {len(seq)} one-time prekeys")
        return seq[0]


PLACEHOLDER_SIGNATURE = bytes(64)  # Bob's own signature is never read by the responder


def x3dh_state(identity_priv, signed_prekey_priv, one_time_privs=()):
    """A `BaseState` holding exactly the injected keys, built through the
    package's own `from_model` (what it restores from storage), so that no
    key of the package's generation enters a result."""
    model = BaseStateModel(
        identity_key=IdentityKeyPairModel(secret=identity_priv, secret_type=SecretType.PRIV),
        signed_pre_key=SignedPreKeyPairModel(priv=signed_prekey_priv, sig=PLACEHOLDER_SIGNATURE, timestamp=0),
        old_signed_pre_key=None,
        pre_keys=frozenset(one_time_privs),
    )
    return SuiteX3dhState.from_model(model, IdentityKeyFormat.CURVE_25519, X3dhHash.SHA_256, INFO_X3DH)


class SuiteX3dhManagedState(State):
    """`--prekey-store state`: the package's managed `State` as Bob's store,
    the class its documentation says to prefer. It deletes a used one-time
    prekey inside `get_shared_secret_passive` (state.py:286-288), before the
    application has decrypted the first message (finding F8)."""

    _encode_public_key = staticmethod(SuiteX3dhState._encode_public_key)

    def _publish_bundle(self, bundle):
        pass  # nothing to publish to


def x3dh_store(identity_priv, signed_prekey_priv, one_time_privs):
    """Bob's prekey store for `x3dh_accept`, in the mode the shim was started with."""
    if PREKEY_STORE[0] == "base":
        return x3dh_state(identity_priv, signed_prekey_priv, one_time_privs)
    model = BaseStateModel(
        identity_key=IdentityKeyPairModel(secret=identity_priv, secret_type=SecretType.PRIV),
        # A fresh timestamp: from_model rotates an older signed prekey (state.py:180, 246).
        signed_pre_key=SignedPreKeyPairModel(priv=signed_prekey_priv, sig=PLACEHOLDER_SIGNATURE,
                                             timestamp=int(time.time())),
        old_signed_pre_key=None,
        pre_keys=frozenset(one_time_privs),
    )
    # Refill threshold 1: the package tops the store up only when it is empty
    # (with its own keys, which no outcome ever uses).
    return SuiteX3dhManagedState.from_model(model, IdentityKeyFormat.CURVE_25519, X3dhHash.SHA_256,
                                            INFO_X3DH, pre_key_refill_threshold=1, pre_key_refill_target=1)


PREKEY_STORE = ["base"]  # or "state" (--prekey-store state)


def key_agreement_class(e):
    """The package raises one exception type for every refusal; its message
    says which (base_state.py:397, 410, 502, 508, 521)."""
    text = str(e)
    if "signature" in text:
        return "authentication"
    if "not available any more" in text:
        return "invalid_key"  # SPEC.md §9 UnknownPreKey
    return "state"


async def x3dh_initiate(req):
    check_suite(req)
    one_time = b(req, "peerOneTimePrekey") if "peerOneTimePrekey" in req else None
    # Alice's own signed prekey is never used by the active side: her identity key stands in.
    alice = x3dh_state(b(req, "identityPrivateKey"), b(req, "identityPrivateKey"))
    bundle = Bundle(identity_key=b(req, "peerIdentityKey"), signed_pre_key=b(req, "peerSignedPrekey"),
                    signed_pre_key_sig=b(req, "peerSignedPrekeySignature"),
                    pre_keys=frozenset() if one_time is None else frozenset([one_time]))
    # Only for this call: elsewhere (State's refills) the package keeps its own randomness.
    x3dh_base_state.secrets = InjectedSecrets(b(req, "ephemeralPrivateKey"))
    try:
        sk, ad, _header = await alice.get_shared_secret_active(bundle, require_pre_key=False)
    finally:
        x3dh_base_state.secrets = secrets
    return {"sharedKey": sk.hex(), "associatedData": ad.hex()}


async def x3dh_respond(req):
    check_suite(req)
    spk = b(req, "signedPrekeyPrivateKey")
    opk = b(req, "oneTimePrekeyPrivateKey") if "oneTimePrekeyPrivateKey" in req else None
    bob = x3dh_state(b(req, "identityPrivateKey"), spk, () if opk is None else (opk,))
    # The package names prekeys by public key; the header carries Bob's own.
    header = X3dhHeader(identity_key=b(req, "peerIdentityKey"), ephemeral_key=b(req, "peerEphemeralKey"),
                        signed_pre_key=xeddsa.priv_to_curve25519_pub(spk),
                        pre_key=None if opk is None else xeddsa.priv_to_curve25519_pub(opk))
    sk, ad, _spk = await bob.get_shared_secret_passive(header, require_pre_key=False)
    return {"sharedKey": sk.hex(), "associatedData": ad.hex()}


INITIAL_VERSION = 0x02


def parse_initial(data):
    """SPEC.md §6.4. The package defines no wire format for its header (the
    application sends IKa, EKa and which prekeys were used), so the shim
    parses the suite's and keeps the application's id → public key table."""
    if not data:
        raise Refused("malformed", "empty initial message")
    if data[0] != INITIAL_VERSION:
        raise Refused("unsupported", f"initial message version {data[0]}")
    if len(data) < 70:
        raise Refused("malformed", f"an initial message is at least 70 bytes before its message, got {len(data)}")
    ika, eka, spk_id, flag = data[1:33], data[33:65], struct.unpack(">I", data[65:69])[0], data[69]
    if flag == 0:
        opk_id, rest = None, data[70:]
    elif flag == 1:
        if len(data) < 74:
            raise Refused("malformed", "initial message ends inside its one-time prekey id")
        opk_id, rest = struct.unpack(">I", data[70:74])[0], data[74:]
    else:
        raise Refused("malformed", f"one-time prekey flag {flag}")
    if not rest:
        raise Refused("malformed", "initial message without a ratchet message")
    return ika, eka, spk_id, opk_id, rest


async def x3dh_accept(req):
    """Bob's prekey store is one `BaseState` for the whole request; each
    initial message runs the package's passive key agreement, then the
    package's `DoubleRatchet.decrypt_initial_message` with SK, AD and the
    signed prekey as Bob's first ratchet key pair ([DR] §5.1). Only after that
    decrypted does the shim call `delete_pre_key` (the application's step
    under `BaseState`). A refused message leaves the store as it was: the
    package changes nothing in `get_shared_secret_passive`."""
    check_suite(req)
    if len(req["signedPrekeys"]) != 1:
        # The package holds a current and at most one old signed prekey.
        raise Refused("unsupported", f"{len(req['signedPrekeys'])} signed prekeys")
    spk_entry = req["signedPrekeys"][0]
    spk = bytes.fromhex(spk_entry["privateKey"])
    opks = {e["id"]: bytes.fromhex(e["privateKey"]) for e in req["oneTimePrekeys"]}
    bob = x3dh_store(b(req, "identityPrivateKey"), spk, opks.values())
    # The application's id tables (the package knows prekeys by public key only).
    spk_pubs = {spk_entry["id"]: xeddsa.priv_to_curve25519_pub(spk)}
    opk_pubs = {i: xeddsa.priv_to_curve25519_pub(k) for i, k in opks.items()}
    keys = KeyList([bytes.fromhex(k) for k in req["ratchetPrivateKeys"]])
    outcomes = []
    for data in (bytes.fromhex(m) for m in req["initialMessages"]):
        ACTIVE_KEYS[0] = keys
        rewind = keys.next
        try:
            ika, eka, spk_id, opk_id, first = parse_initial(data)
            if spk_id not in spk_pubs or (opk_id is not None and opk_id not in opk_pubs):
                raise Refused("invalid_key", f"unknown prekey id (signed {spk_id}, one-time {opk_id})")
            header = X3dhHeader(identity_key=ika, ephemeral_key=eka, signed_pre_key=spk_pubs[spk_id],
                                pre_key=None if opk_id is None else opk_pubs[opk_id])
            sk, ad, spk_pair = await bob.get_shared_secret_passive(header, require_pre_key=False)
            s = Session([], DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED)
            _ratchet, plaintext = await SuiteRatchet.decrypt_initial_message(
                shared_secret=sk, own_ratchet_priv=spk_pair.priv, message=from_wire(first),
                associated_data=ad, **params(s))
        except Exception as e:
            keys.next = rewind
            outcomes.append({"error": {"class": classify(e), "message": f"{type(e).__name__}: {e}"}})
            continue
        if header.pre_key is not None and PREKEY_STORE[0] == "base":
            bob.delete_pre_key(header.pre_key)  # `State` has deleted it already
        outcomes.append({"plaintext": plaintext.hex(), "associatedData": ad.hex(), "peerIdentityKey": ika.hex()})
    return {"outcomes": outcomes}


async def handshake(req):
    return {
        "protocol": 1,
        "name": "python-doubleratchet",
        "version": (f"{doubleratchet.__version__}, x3dh {x3dh.__version__} (xeddsa {xeddsa.__version__}, "
                    f"cryptography {cryptography.__version__})"
                    + ("" if PREKEY_STORE[0] == "base" else ", x3dh.State prekey store")),
        "suites": [SUITE],
        "operations": ["primitives", "x3dh", "session", "x3dh_accept", "export"],
        "maxSkip": DEFAULT_MAX_SKIP,
        "maxStoredSkippedKeys": DEFAULT_MAX_STORED,
        "configurableLimits": True,
        "injectedRandomness": True,
        "clone": True,
    }


async def reset(req):
    SESSIONS.clear()
    return {}


OPS = {f.__name__: f for f in (handshake, kdf_rk, kdf_ck, message_keys, seal, init_session,
                                encrypt, decrypt, clone_session, x3dh_initiate, x3dh_respond,
                                x3dh_accept, reset)}
OPS["export_state"] = export_state

# The package's exceptions, mapped to ratchetproof's error classes.
CLASSES = [
    (AuthenticationFailedException, "authentication"),
    (DecryptionFailedException, "authentication"),
    (DuplicateMessageException, "duplicate"),
    (DoSProtectionException, "too_many_skipped"),
    (ChainNotAvailableException, "state"),
    (xeddsa.XEdDSAException, "invalid_key"),  # x25519: rejected public key or all-zero output
    (ValueError, "invalid_key"),  # wrong key lengths; X25519 with an all-zero output
]


def classify(e):
    if isinstance(e, Refused):
        return e.cls
    if isinstance(e, KeyAgreementException):
        return key_agreement_class(e)
    for exc_type, cls in CLASSES:
        if isinstance(e, exc_type):
            return cls
    # Anything else (e.g. an AssertionError inside the package) is still a
    # refusal; log it so the report's reader can see where it came from.
    traceback.print_exc(file=sys.stderr)
    return "state"


def main():
    args = sys.argv[1:]
    if args == ["--prekey-store", "state"]:
        PREKEY_STORE[0] = "state"
    elif args and args != ["--prekey-store", "base"]:
        sys.exit("usage: shim.py [--prekey-store base|state]")
    loop = asyncio.new_event_loop()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = OPS.get(req.get("op"))
        try:
            if op is None:
                raise Refused("unsupported", f"operation {req.get('op')!r}")
            response = {"id": req["id"], "result": loop.run_until_complete(op(req))}
        except Exception as e:
            response = {"id": req["id"],
                        "error": {"class": classify(e), "message": f"{type(e).__name__}: {e}"}}
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
