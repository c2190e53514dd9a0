#!/usr/bin/env python3
"""ratchetproof shim for python-axolotl 0.2.3 (tgalal's Python port of libsignal v3).

Suite `signal-v3` (docs/SIGNAL-V3.md). Every byte of cryptography and every
encoding comes from the package's own code paths; the shim only moves bytes
between hex and the package's objects:

  kdf_rk        axolotl.ratchet.rootkey.RootKey.createChain, run with the
                request's DH output in place of Curve.calculateAgreement
  kdf_ck        ChainKey.getNextChainKey (CK') and ChainKey.getBaseMaterial(
                MESSAGE_KEY_SEED) (the message key seed)
  message_keys  ChainKey.getMessageKeys, run with the request's seed in place
                of getBaseMaterial (HKDFv3, "WhisperMessageKeys", 80 bytes)
  seal          AESCipher (sessioncipher.py) + the WhisperMessage constructor,
                which encodes the protobuf and computes the MAC
  x3dh_initiate SessionBuilder.processPreKeyBundle (signature check included),
                SK captured from RatchetingSession.calculateDerivedKeys
  x3dh_respond  RatchetingSession.initializeSessionAsBob, SK captured the same way
  init_session  a SessionState built with the package's setters: Alice's
                sending chain from RootKey.createChain, Bob's ratchet key pair
                = his signed prekey; then SessionCipher for encrypt/decrypt
  prekey_*      SessionBuilder.processPreKeyBundle / SessionCipher.decryptPkmsg
                with in-memory stores
  x3dh_accept   SessionCipher.decryptPkmsg for each initial message in turn, on
                one store holding the given signed and one-time prekeys
  clone_session SessionRecord.serialize / SessionRecord(serialized=...)

Injected randomness: the package draws every key pair through
Curve.generateKeyPair -> Curve.generatePrivateKey(), which clamps 32 bytes of
os.urandom with axolotl_curve25519.generatePrivateKey. The shim replaces
Curve.generatePrivateKey (a class attribute, so every caller -- SessionCipher,
SessionBuilder, RatchetingSession -- sees it) by the same clamp applied to the
next key of the session's injected list. X25519 clamps anyway, so public keys
and DH outputs are those of the key as given.

python-axolotl draws the new ratchet key in SessionCipher.getOrCreateChainKey
*before* WhisperMessage.verifyMac, and its decrypt works on a copy of the
session state that is stored only on success; the shim rewinds the key list
when a decryption raises, so a rejected message consumes no injected key.

Store modes (README, "Store modes"): the application supplies the session
store, and what the package changes in a SessionRecord before it refuses a
message survives only if the store hands back the same object next time.

  --store serializing  (default) records are kept serialized, as the package's
                       own InMemorySessionStore and every application store we
                       know of keep them; the shim also restores the stored
                       record after a refused decryption.
  --store live         loadSession returns the same SessionRecord object on
                       every call (never a copy); the shim restores nothing
                       but the key list.

The handshake's `version` names the mode, so the two runs' reports differ.

Protocol: docs/SHIM.md (JSON lines on stdin/stdout; logs go to stderr).
"""

import os

# python-axolotl's generated *_pb2 modules predate the upb/cpp descriptor
# rules; they load only with the pure-Python protobuf implementation.
os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from importlib import metadata  # noqa: E402

import axolotl_curve25519 as _curve  # noqa: E402
from google.protobuf.message import DecodeError  # noqa: E402

from axolotl.duplicatemessagexception import DuplicateMessageException  # noqa: E402
from axolotl.ecc.curve import Curve  # noqa: E402
from axolotl.ecc.djbec import DjbECPublicKey  # noqa: E402
from axolotl.ecc.eckeypair import ECKeyPair  # noqa: E402
from axolotl.identitykey import IdentityKey  # noqa: E402
from axolotl.identitykeypair import IdentityKeyPair  # noqa: E402
from axolotl.invalidkeyexception import InvalidKeyException  # noqa: E402
from axolotl.invalidkeyidexception import InvalidKeyIdException  # noqa: E402
from axolotl.invalidmessageexception import InvalidMessageException  # noqa: E402
from axolotl.invalidversionexception import InvalidVersionException  # noqa: E402
from axolotl.kdf.hkdfv3 import HKDFv3  # noqa: E402
from axolotl.legacymessageexception import LegacyMessageException  # noqa: E402
from axolotl.nosessionexception import NoSessionException  # noqa: E402
from axolotl.protocol.ciphertextmessage import CiphertextMessage  # noqa: E402
from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage  # noqa: E402
from axolotl.protocol.whispermessage import WhisperMessage  # noqa: E402
from axolotl.ratchet.bobaxolotlparamaters import BobAxolotlParameters  # noqa: E402
from axolotl.ratchet.chainkey import ChainKey  # noqa: E402
from axolotl.ratchet.ratchetingsession import RatchetingSession  # noqa: E402
from axolotl.ratchet.rootkey import RootKey  # noqa: E402
from axolotl.sessionbuilder import SessionBuilder  # noqa: E402
from axolotl.sessioncipher import AESCipher, SessionCipher  # noqa: E402
from axolotl.state.axolotlstore import AxolotlStore  # noqa: E402
from axolotl.state.prekeybundle import PreKeyBundle  # noqa: E402
from axolotl.state.prekeyrecord import PreKeyRecord  # noqa: E402
from axolotl.state.sessionrecord import SessionRecord  # noqa: E402
from axolotl.state.sessionstate import SessionState  # noqa: E402
from axolotl.state.signedprekeyrecord import SignedPreKeyRecord  # noqa: E402
from axolotl.untrustedidentityexception import UntrustedIdentityException  # noqa: E402

SUITE = "signal-v3"
VERSION = CiphertextMessage.CURRENT_VERSION  # 3
PEER, DEVICE = "peer", 1  # the one remote address every shim session talks to
MAX_SKIP = 2000  # sessioncipher.py getOrCreateMessageKeys: `counter - chainKey.getIndex() > 2000`


def store_mode(argv):
    parser = argparse.ArgumentParser(description="ratchetproof shim for python-axolotl (docs/SHIM.md)")
    parser.add_argument("--store", choices=("serializing", "live"), default="serializing",
                        help="how the session store keeps records (README, 'Store modes')")
    return parser.parse_args(argv).store


STORE_MODE = store_mode(sys.argv[1:]) if __name__ == "__main__" else "serializing"
LIVE_STORE = STORE_MODE == "live"


class Refused(Exception):
    """A refusal the shim itself raises, with its ratchetproof error class."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


class Malformed(Exception):
    """The package's parser raised something other than its own exceptions."""


# --- injected randomness ----------------------------------------------------

class KeyList:
    """The injected private keys of one session, handed out in order.

    Past the end of the list it hands out a placeholder (32 zero bytes, as the
    reference's KeyQueueRng does): the package draws a ratchet key before the
    MAC is checked, and the vectors list keys only for committed steps, so a
    rejected message may need one key more than the list holds. If a decryption
    that used the placeholder *succeeds*, the shim reports the package's answer
    and says so on stderr.
    """

    def __init__(self, keys):
        self.keys, self.next = list(keys), 0

    def take(self):
        self.next += 1
        if self.next > len(self.keys):
            return bytes(32)
        return self.keys[self.next - 1]

    def overdrawn(self):
        return self.next > len(self.keys)


ACTIVE_KEYS = [KeyList([])]  # the key list of the session being driven


def injected_private_key():
    # Curve.generatePrivateKey is `_curve.generatePrivateKey(os.urandom(32))`;
    # only the source of the 32 bytes changes. The C function clamps its
    # argument *in place*, so hand it a fresh copy, never the list's object.
    return _curve.generatePrivateKey(bytes(bytearray(ACTIVE_KEYS[0].take())))


Curve.generatePrivateKey = staticmethod(injected_private_key)


@contextlib.contextmanager
def patched(owner, name, value):
    saved = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


@contextlib.contextmanager
def captured_derived_keys():
    """Runs the package's X3DH and records what calculateDerivedKeys returned."""
    original = RatchetingSession.calculateDerivedKeys
    seen = []

    def capture(master_secret):
        keys = original(master_secret)
        seen.append(keys)
        return keys

    with patched(RatchetingSession, "calculateDerivedKeys", staticmethod(capture)):
        yield seen


# --- key objects from the protocol's bare 32-byte values ---------------------

def hx(req, field):
    return bytes.fromhex(req[field])


def public_key(raw):
    # The package's own public-key object; its C module refuses a length other
    # than 32 (ValueError) when the key is used.
    return DjbECPublicKey(raw)


def key_pair(private):
    """The key pair the package generates from these 32 bytes of randomness.

    Every python-axolotl key pair (identity: KeyHelper.generateIdentityKeyPair,
    signed and one-time prekeys: KeyHelper.generateSignedPreKey/generatePreKeys,
    base and ratchet keys) comes from Curve.generateKeyPair, which clamps the
    random bytes. That clamp is not optional: the package's curve25519-donna
    has its own clamp commented out (curve25519-donna.c:860-862), so a private
    key that skipped it would not compute X25519 (finding in README.md).
    """
    saved = ACTIVE_KEYS[0]
    ACTIVE_KEYS[0] = KeyList([private])
    try:
        return Curve.generateKeyPair()
    finally:
        ACTIVE_KEYS[0] = saved


def identity_key_pair(private):
    pair = key_pair(private)
    return IdentityKeyPair(IdentityKey(pair.getPublicKey()), pair.getPrivateKey())


def identities_from_ad(ad, role):
    """(local, remote) IdentityKey objects from the 66-byte X3DH AD."""
    if len(ad) != 66:
        raise Refused("invalid_key", f"ad must be 66 bytes (two encoded identity keys), got {len(ad)}")
    alice = IdentityKey(ad[:33], 0)  # Curve.decodePoint: InvalidKeyException unless 0x05
    bob = IdentityKey(ad[33:], 0)
    return (alice, bob) if role == "alice" else (bob, alice)


# --- stores -----------------------------------------------------------------

class Store(AxolotlStore):
    """In-memory stores; session records serialized, like the package's test
    stores, or (live store) the SessionRecord objects themselves."""

    def __init__(self, identity_pair=None, registration_id=0):
        self.identity_pair, self.registration_id = identity_pair, registration_id
        self.trusted, self.prekeys, self.signed_prekeys, self.sessions = {}, {}, {}, {}

    def copy(self):
        other = Store(self.identity_pair, self.registration_id)
        other.trusted, other.prekeys = dict(self.trusted), dict(self.prekeys)
        other.signed_prekeys = dict(self.signed_prekeys)
        # A copy is an independent store in both modes: live records are copied
        # through the package's own protobuf round trip, never shared.
        other.sessions = {k: SessionRecord(serialized=v.serialize()) if LIVE_STORE else v
                          for k, v in self.sessions.items()}
        return other

    def record_bytes(self, recepientId, deviceId):
        """The stored record serialized, whatever the mode (for comparisons)."""
        stored = self.sessions.get((recepientId, deviceId))
        return stored.serialize() if LIVE_STORE and stored is not None else stored

    def sessions_bytes(self):
        return {k: self.record_bytes(*k) for k in self.sessions}

    # IdentityKeyStore (trust on first use, as the package's InMemoryIdentityKeyStore)
    def getIdentityKeyPair(self):
        return self.identity_pair

    def getLocalRegistrationId(self):
        return self.registration_id

    def saveIdentity(self, recepientId, identityKey):
        self.trusted[recepientId] = identityKey

    def isTrustedIdentity(self, recepientId, identityKey):
        return recepientId not in self.trusted or self.trusted[recepientId] == identityKey

    # PreKeyStore
    def loadPreKey(self, preKeyId):
        if preKeyId not in self.prekeys:
            raise InvalidKeyIdException(f"No such prekeyRecord! {preKeyId}")
        return PreKeyRecord(serialized=self.prekeys[preKeyId])

    def storePreKey(self, preKeyId, preKeyRecord):
        self.prekeys[preKeyId] = preKeyRecord.serialize()

    def containsPreKey(self, preKeyId):
        return preKeyId in self.prekeys

    def removePreKey(self, preKeyId):
        self.prekeys.pop(preKeyId, None)

    # SignedPreKeyStore
    def loadSignedPreKey(self, signedPreKeyId):
        if signedPreKeyId not in self.signed_prekeys:
            raise InvalidKeyIdException(f"No such signedprekeyrecord! {signedPreKeyId}")
        return SignedPreKeyRecord(serialized=self.signed_prekeys[signedPreKeyId])

    def loadSignedPreKeys(self):
        return [SignedPreKeyRecord(serialized=s) for s in self.signed_prekeys.values()]

    def storeSignedPreKey(self, signedPreKeyId, signedPreKeyRecord):
        self.signed_prekeys[signedPreKeyId] = signedPreKeyRecord.serialize()

    def containsSignedPreKey(self, signedPreKeyId):
        return signedPreKeyId in self.signed_prekeys

    def removeSignedPreKey(self, signedPreKeyId):
        self.signed_prekeys.pop(signedPreKeyId, None)

    # SessionStore
    def loadSession(self, recepientId, deviceId):
        stored = self.sessions.get((recepientId, deviceId))
        if LIVE_STORE:
            # The same object every call; an address without a record gets a new
            # one, which is kept only when the package stores it.
            return stored if stored is not None else SessionRecord()
        return SessionRecord(serialized=stored) if stored else SessionRecord()

    def getSubDeviceSessions(self, recepientId):
        return [d for (r, d) in self.sessions if r == recepientId]

    def storeSession(self, recepientId, deviceId, sessionRecord):
        self.sessions[(recepientId, deviceId)] = sessionRecord if LIVE_STORE else sessionRecord.serialize()

    def containsSession(self, recepientId, deviceId):
        return (recepientId, deviceId) in self.sessions

    def deleteSession(self, recepientId, deviceId):
        self.sessions.pop((recepientId, deviceId), None)

    def deleteAllSessions(self, recepientId):
        for key in [k for k in self.sessions if k[0] == recepientId]:
            del self.sessions[key]


# --- sessions ---------------------------------------------------------------

class Session:
    def __init__(self, kind, role, store, keys):
        self.kind = kind          # "direct" (init_session) or "prekey" (prekey_*)
        self.role = role          # "alice" or "bob"
        self.store = store
        self.keys = KeyList(keys)
        # A Bob session from init_session has no chain key to send with until
        # its first decryption ratchets (the package builds Bob's session only
        # from a received PreKeyWhisperMessage, so it never faces this state).
        self.awaiting_first_message = kind == "direct" and role == "bob"

    def cipher(self):
        s = self.store
        return SessionCipher(s, s, s, s, PEER, DEVICE)


SESSIONS = {}


def add(s):
    handle = len(SESSIONS)
    while handle in SESSIONS:
        handle += 1
    SESSIONS[handle] = s
    return handle


def get_session(req):
    s = SESSIONS.get(req["session"])
    if s is None:
        raise Refused("state", f"no session {req['session']}")
    ACTIVE_KEYS[0] = s.keys
    return s


def check_suite(req):
    if req.get("suite") != SUITE:
        raise Refused("unsupported", f"suite {req.get('suite')}")


def init_session(req):
    check_suite(req)
    role = req["role"]
    if role not in ("alice", "bob"):
        raise Refused("unsupported", f"role {role}")
    sk, ratchet_key = hx(req, "sharedKey"), hx(req, "ratchetKey")
    s = Session("direct", role, Store(), [bytes.fromhex(k) for k in req["ratchetPrivateKeys"]])
    ACTIVE_KEYS[0] = s.keys
    state = SessionState()
    state.setSessionVersion(VERSION)
    root = RootKey(HKDFv3(), sk)
    if role == "alice":
        # RatchetingSession.initializeSessionAsAlice after its X3DH, minus the
        # receiver chain it derives from the second half of "WhisperText".
        sending_ratchet_key = Curve.generateKeyPair()
        new_root, sending_chain = root.createChain(public_key(ratchet_key), sending_ratchet_key)
        state.setSenderChain(sending_ratchet_key, sending_chain)
        state.setRootKey(new_root)
    else:
        # initializeSessionAsBob: our ratchet key pair is the signed prekey.
        # There is no sending chain key yet; the empty one is never used
        # (encrypt is refused until the first decryption replaces the chain).
        state.setSenderChain(key_pair(ratchet_key), ChainKey(HKDFv3(), b"", 0))
        state.setRootKey(root)
    s.store.storeSession(PEER, DEVICE, SessionRecord(sessionState=state))
    return {"session": add(s)}


def set_identities(s, ad):
    """A direct session's identity keys (used by the MAC) from `ad` and the role."""
    local, remote = identities_from_ad(ad, s.role)
    record = s.store.loadSession(PEER, DEVICE)
    record.getSessionState().setLocalIdentityKey(local)
    record.getSessionState().setRemoteIdentityKey(remote)
    s.store.storeSession(PEER, DEVICE, record)


def encrypt(req):
    s = get_session(req)
    if s.kind == "direct":
        set_identities(s, hx(req, "ad"))
        if s.awaiting_first_message:
            raise Refused("state", "no sending chain: Bob has not received a message yet")
    message = s.cipher().encrypt(hx(req, "plaintext"))
    result = {"message": message.serialize().hex()}
    if s.kind == "prekey":
        result["messageType"] = "prekey" if message.getType() == CiphertextMessage.PREKEY_TYPE else "whisper"
    return result


def parse(cls, data):
    """The package's parser; anything it raises besides its own exceptions
    (e.g. TypeError on b"", which its `if serialized:` sends to the
    constructor branch) is a parse failure of those bytes."""
    try:
        return cls(serialized=data)
    except (InvalidMessageException, InvalidVersionException, LegacyMessageException,
            InvalidKeyException, DecodeError):
        raise
    except Exception as e:
        raise Malformed(f"{cls.__name__}(serialized=...) raised {type(e).__name__}: {e}") from e


def decrypt(req):
    s = get_session(req)
    data, message_type = hx(req, "message"), req.get("messageType", "whisper")
    rewind, saved, before = s.keys.next, dict(s.store.sessions), s.store.sessions_bytes()
    try:
        if s.kind == "direct":
            set_identities(s, hx(req, "ad"))
        if message_type == "prekey":
            if s.kind != "prekey":
                raise Refused("unsupported", "a PreKeyWhisperMessage on a session made by init_session")
            plaintext = s.cipher().decryptPkmsg(parse(PreKeyWhisperMessage, data))
        elif message_type == "whisper":
            plaintext = s.cipher().decryptMsg(parse(WhisperMessage, data))
        else:
            raise Refused("unsupported", f"messageType {message_type}")
    except BaseException as e:
        # The key list always rewinds; the serializing store also gets its record
        # back, the live store keeps whatever the package changed (that is the point).
        s.keys.next = rewind
        if LIVE_STORE:
            if s.store.sessions_bytes() != before:
                print(f"shim: decrypt was refused ({describe(e)}) but the package changed the live "
                      f"record; kept", file=sys.stderr)
        else:
            s.store.sessions = saved
        raise
    s.awaiting_first_message = False
    if s.keys.overdrawn():
        print(f"shim: a decryption committed more DH ratchet steps than the vector has keys for "
              f"({s.keys.next} > {len(s.keys.keys)}); a placeholder key is in use", file=sys.stderr)
    return {"plaintext": bytes(plaintext).hex()}


def clone_session(req):
    s = get_session(req)
    copy = Session(s.kind, s.role, s.store.copy(), [bytes.fromhex(k) for k in req["ratchetPrivateKeys"]])
    # The record goes through the package's own protobuf round trip.
    if s.store.containsSession(PEER, DEVICE):
        record = SessionRecord(serialized=s.store.record_bytes(PEER, DEVICE))
        copy.store.sessions = {(PEER, DEVICE): record if LIVE_STORE else record.serialize()}
    copy.awaiting_first_message = s.awaiting_first_message
    return {"session": add(copy)}


# --- prekey group: the package's own session building ------------------------

def bundle(req, signed_prekey_id, registration_id, one_time_id=None):
    otk = hx(req, "peerOneTimePrekey") if "peerOneTimePrekey" in req else None
    return PreKeyBundle(registration_id, DEVICE,
                        one_time_id if otk is not None else None,
                        public_key(otk) if otk is not None else None,
                        signed_prekey_id, public_key(hx(req, "peerSignedPrekey")),
                        hx(req, "peerSignedPrekeySignature"),
                        IdentityKey(public_key(hx(req, "peerIdentityKey"))))


def prekey_initiate(req):
    check_suite(req)
    store = Store(identity_key_pair(hx(req, "identityPrivateKey")), req["registrationId"])
    keys = [hx(req, "ephemeralPrivateKey")] + [bytes.fromhex(k) for k in req["ratchetPrivateKeys"]]
    s = Session("prekey", "alice", store, keys)
    ACTIVE_KEYS[0] = s.keys
    SessionBuilder(store, store, store, store, PEER, DEVICE).processPreKeyBundle(
        bundle(req, req["peerSignedPrekeyId"], req["peerRegistrationId"], req.get("peerOneTimePrekeyId")))
    # processPreKeyBundle drew the base key and Alice's first ratchet key;
    # later draws are her DH ratchet steps, entry 1 onwards of ratchetPrivateKeys.
    return {"session": add(s)}


def prekey_respond(req):
    check_suite(req)
    store = Store(identity_key_pair(hx(req, "identityPrivateKey")), req["registrationId"])
    spk_id = req["signedPrekeyId"]
    # The signature is the signer's business; Bob's store keeps an empty one.
    store.storeSignedPreKey(spk_id, SignedPreKeyRecord(
        spk_id, 0, key_pair(hx(req, "signedPrekeyPrivateKey")), b""))
    if "oneTimePrekeyPrivateKey" in req:
        otk_id = req["oneTimePrekeyId"]
        store.storePreKey(otk_id, PreKeyRecord(otk_id, key_pair(hx(req, "oneTimePrekeyPrivateKey"))))
    s = Session("prekey", "bob", store, [bytes.fromhex(k) for k in req["ratchetPrivateKeys"]])
    ACTIVE_KEYS[0] = s.keys
    plaintext = s.cipher().decryptPkmsg(parse(PreKeyWhisperMessage, hx(req, "message")))
    return {"session": add(s), "plaintext": bytes(plaintext).hex()}


# --- x3dh_accept: one prekey store receiving initial messages ------------------

class AcceptStore(Store):
    """Bob's store for `x3dh_accept`: the package's stores, with an identity
    policy that trusts every key.

    Which identity a peer may use is the application's decision (X3DH §4.1;
    SPEC.md §6.5 step 5: the application checks IKa, which the outcome
    returns). The package's InMemoryIdentityKeyStore pins the first key per
    address; with it, an initial message from another identity on the same
    address would be refused by UntrustedIdentityException before the prekey
    store is ever asked, which would hide the prekey handling these cases test.
    saveIdentity still records what the package saves, for the stderr notes.
    """

    def isTrustedIdentity(self, recepientId, identityKey):
        return True

    def snapshot(self):
        return (dict(self.prekeys), dict(self.signed_prekeys), self.sessions_bytes(),
                {k: v.serialize() for k, v in self.trusted.items()})


def x3dh_accept(req):
    """SessionCipher.decryptPkmsg on one store, for every initial message in turn.

    All messages come from the one address (PEER, DEVICE), so they meet the
    package's per-address SessionRecord: a new base key archives the current
    state and starts a new one (SessionBuilder.processV3), a base key the record
    already holds falls through to that session (sessionbuilder.py:58). The
    store is not restored after a refusal: whether the package leaves it as it
    was is what the cases test (the shim only notes a change on stderr).
    """
    check_suite(req)
    store = AcceptStore(identity_key_pair(hx(req, "identityPrivateKey")), 1)
    for entry in req["signedPrekeys"]:
        # The signature is the signer's business; Bob's store keeps an empty one.
        store.storeSignedPreKey(entry["id"], SignedPreKeyRecord(
            entry["id"], 0, key_pair(bytes.fromhex(entry["privateKey"])), b""))
    for entry in req["oneTimePrekeys"]:
        store.storePreKey(entry["id"], PreKeyRecord(entry["id"], key_pair(bytes.fromhex(entry["privateKey"]))))
    keys = KeyList([bytes.fromhex(k) for k in req["ratchetPrivateKeys"]])
    messages = [bytes.fromhex(m) for m in req["initialMessages"]]
    outcomes = []
    for i, data in enumerate(messages):
        ACTIVE_KEYS[0] = keys
        rewind, before = keys.next, store.snapshot()
        try:
            plaintext = SessionCipher(store, store, store, store, PEER, DEVICE).decryptPkmsg(
                parse(PreKeyWhisperMessage, data))
        except Exception as e:
            # A refused message draws no injected key (the package drew the
            # ratchet key before the MAC failed); everything else stays as the
            # package left it.
            keys.next = rewind
            changed = [name for name, a, b in zip(("one-time prekeys", "signed prekeys", "session records",
                                                    "saved identities"), before, store.snapshot()) if a != b]
            if changed:
                print(f"shim: x3dh_accept message {i} was refused ({describe(e)}) but the package changed "
                      f"the store's {', '.join(changed)}; left as the package left it", file=sys.stderr)
            outcomes.append({"error": {"class": classify(e), "message": describe(e)}})
            continue
        if keys.overdrawn():
            print(f"shim: x3dh_accept message {i} was accepted after drawing past the injected "
                  f"ratchet keys; a placeholder key is in use", file=sys.stderr)
        # The session that decrypted is the record's current state (setState or promoteState).
        state = store.loadSession(PEER, DEVICE).getSessionState()
        remote, local = state.getRemoteIdentityKey(), state.getLocalIdentityKey()
        outcomes.append({"plaintext": bytes(plaintext).hex(),
                         "associatedData": bytes(remote.serialize() + local.serialize()).hex(),
                         "peerIdentityKey": bytes(remote.getPublicKey().getPublicKey()).hex()})
    return {"outcomes": outcomes}


# --- X3DH ---------------------------------------------------------------------

def x3dh_initiate(req):
    check_suite(req)
    store = Store(identity_key_pair(hx(req, "identityPrivateKey")), 0)
    ACTIVE_KEYS[0] = KeyList([hx(req, "ephemeralPrivateKey")])
    with captured_derived_keys() as seen:
        # Verifies the signed prekey signature exactly as the package does
        # (Curve.verifySignature over the encoded key), then runs
        # initializeSessionAsAlice.
        SessionBuilder(store, store, store, store, PEER, DEVICE).processPreKeyBundle(
            bundle(req, 0, 0, 0))
    state = store.loadSession(PEER, DEVICE).getSessionState()
    ad = state.getLocalIdentityKey().serialize() + state.getRemoteIdentityKey().serialize()
    return {"sharedKey": bytes(seen[0].getRootKey().getKeyBytes()).hex(), "associatedData": bytes(ad).hex()}


def x3dh_respond(req):
    check_suite(req)
    signed_prekey = key_pair(hx(req, "signedPrekeyPrivateKey"))
    one_time = key_pair(hx(req, "oneTimePrekeyPrivateKey")) if "oneTimePrekeyPrivateKey" in req else None
    parameters = BobAxolotlParameters.newBuilder()
    parameters.setTheirBaseKey(public_key(hx(req, "peerEphemeralKey"))) \
        .setTheirIdentityKey(IdentityKey(public_key(hx(req, "peerIdentityKey")))) \
        .setOurIdentityKey(identity_key_pair(hx(req, "identityPrivateKey"))) \
        .setOurSignedPreKey(signed_prekey) \
        .setOurRatchetKey(signed_prekey) \
        .setOurOneTimePreKey(one_time)
    state = SessionState()
    with captured_derived_keys() as seen:
        RatchetingSession.initializeSessionAsBob(state, parameters.create())
    ad = state.getRemoteIdentityKey().serialize() + state.getLocalIdentityKey().serialize()
    return {"sharedKey": bytes(seen[0].getRootKey().getKeyBytes()).hex(), "associatedData": bytes(ad).hex()}


# --- primitives ---------------------------------------------------------------

def kdf_rk(req):
    check_suite(req)
    dh_output = hx(req, "dhOutput")
    # createChain computes Curve.calculateAgreement(their, our) and feeds it to
    # HKDFv3 with the root key as salt; here the agreement is the given output.
    with patched(Curve, "calculateAgreement", staticmethod(lambda public, private: dh_output)):
        root, chain = RootKey(HKDFv3(), hx(req, "rootKey")).createChain(None, ECKeyPair(None, None))
    return {"rootKey": bytes(root.getKeyBytes()).hex(), "chainKey": bytes(chain.getKey()).hex()}


def kdf_ck(req):
    check_suite(req)
    chain = ChainKey(HKDFv3(), hx(req, "chainKey"), 0)
    return {"chainKey": bytes(chain.getNextChainKey().getKey()).hex(),
            "messageKey": bytes(chain.getBaseMaterial(ChainKey.MESSAGE_KEY_SEED)).hex()}


def expand(seed):
    """ChainKey.getMessageKeys with the seed given instead of HMAC(CK, 0x01)."""
    chain = ChainKey(HKDFv3(), None, 0)
    chain.getBaseMaterial = lambda seed_bytes: seed
    return chain.getMessageKeys()


def message_keys(req):
    check_suite(req)
    keys = expand(hx(req, "messageKey"))
    return {"keys": bytes(keys.getCipherKey() + keys.getMacKey() + keys.getIv()).hex()}


class MacPrefix:
    """Stands in for an IdentityKey in WhisperMessage.getMac, which MACs
    `sender.getPublicKey().serialize() || receiver.getPublicKey().serialize()`;
    `seal` gives that prefix whole, of any length."""

    def __init__(self, data):
        self.data = data

    def getPublicKey(self):
        return self

    def serialize(self):
        return self.data


def seal(req):
    check_suite(req)
    keys = expand(hx(req, "messageKey"))
    ciphertext = AESCipher(keys.getCipherKey(), keys.getIv()).encrypt(hx(req, "plaintext"))
    # SessionCipher.getOrCreateChainKey stores previousCounter as
    # max(index - 1, 0); `pn` is the [DR] count, so the same rule applies.
    message = WhisperMessage(VERSION, keys.getMacKey(), public_key(hx(req, "ratchetKey")),
                             req["n"], max(req["pn"] - 1, 0), ciphertext,
                             MacPrefix(hx(req, "ad")), MacPrefix(b""))
    return {"message": message.serialize().hex()}


# --- protocol -----------------------------------------------------------------

def handshake(req):
    return {
        "protocol": 1,
        "name": "python-axolotl",
        "version": (f"{metadata.version('python-axolotl')} (python-axolotl-curve25519 "
                    f"{metadata.version('python-axolotl-curve25519')}, protobuf {metadata.version('protobuf')}; "
                    f"{STORE_MODE} store)"),
        "suites": [SUITE],
        "operations": ["primitives", "x3dh", "session", "prekey", "x3dh_accept"],
        "maxSkip": MAX_SKIP,
        "maxStoredSkippedKeys": None,  # no cap: SessionState.setMessageKeys appends without limit
        "configurableLimits": False,
        "injectedRandomness": True,
        "clone": True,
    }


def reset(req):
    SESSIONS.clear()
    return {}


OPS = {f.__name__: f for f in (handshake, kdf_rk, kdf_ck, message_keys, seal, x3dh_initiate,
                                x3dh_respond, init_session, encrypt, decrypt, clone_session,
                                prekey_initiate, prekey_respond, x3dh_accept, reset)}


# InvalidMessageException carries its reason as text; the wrapped exception
# (WhisperMessage / PreKeyWhisperMessage wrap InvalidKeyException,
# LegacyMessageException and DecodeError) as its argument.
MESSAGE_CLASSES = [
    ("Bad Mac", "authentication"),
    ("Over 2000 messages", "too_many_skipped"),
    ("Incomplete message", "malformed"),
    ("Unknown version", "unsupported"),
    ("Message version", "unsupported"),
    ("Uninitialized session", "state"),
]


def classify(e):
    if isinstance(e, Refused):
        return e.cls
    if isinstance(e, (Malformed, DecodeError)):
        return "malformed"
    if isinstance(e, InvalidMessageException):
        cause = e.args[0] if e.args else None
        if isinstance(cause, BaseException):
            return classify(cause)
        text = str(e)
        for needle, cls in MESSAGE_CLASSES:
            if needle in text:
                return cls
        return "malformed"
    if isinstance(e, DuplicateMessageException):
        return "duplicate"
    if isinstance(e, (InvalidVersionException, LegacyMessageException)):
        return "unsupported"
    if isinstance(e, InvalidKeyException):
        return "authentication" if "signature" in str(e) else "invalid_key"
    if isinstance(e, InvalidKeyIdException):
        return "invalid_key"
    if isinstance(e, UntrustedIdentityException):
        return "invalid_key"
    if isinstance(e, NoSessionException):
        return "state"
    if isinstance(e, ValueError):
        text = str(e)
        # cryptography, after a MAC that verified: PKCS#7 or block-length failure
        if "padding" in text or "multiple of the block length" in text:
            return "authentication"
        # axolotl_curve25519's length checks ("input must be 32-byte string",
        # "signature must be 64-byte string"), the parameter builders' "Null value!"
        return "invalid_key"
    traceback.print_exception(e, file=sys.stderr)
    return "state"


def describe(e):
    if isinstance(e, UntrustedIdentityException):
        return f"UntrustedIdentityException: {e.getName()}"
    return f"{type(e).__name__}: {e}"


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = OPS.get(req.get("op"))
        try:
            if op is None:
                raise Refused("unsupported", f"operation {req.get('op')!r}")
            response = {"id": req["id"], "result": op(req)}
        except Exception as e:
            response = {"id": req["id"], "error": {"class": classify(e), "message": describe(e)}}
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
