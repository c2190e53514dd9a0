//! Legitimate variants: behaviours the specifications allow that the
//! reference does not choose. Each must pass **every** vector case in strict
//! mode; a variant that fails one shows a vector enforcing the reference's
//! own choice, a false failure (issue 13, items 7–10). They are switches on
//! the same independent [`super::Mutant`] as the known bugs, so the control
//! shares its code with what the known-bug rows prove.

/// Builds [`Variant`], [`Variant::ALL`] in table order, [`Variant::name`]
/// and [`Variant::summary`] from one entry per variant, as the known-bug
/// catalogue does for [`super::Bug`].
macro_rules! variants {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:expr, summary: $summary:expr $(,)? }
    )*) => {
        /// A conforming behaviour other than the reference's.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Variant {
            $( $(#[$doc])* $variant, )*
        }

        impl Variant {
            /// Every variant, in a stable order.
            pub const ALL: [Variant; [$(stringify!($variant)),*].len()] =
                [$(Variant::$variant),*];

            /// A stable kebab-case name for tables and reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Variant::$variant => $name,)*
                }
            }

            /// One line on what the variant does, for tables.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Variant::$variant => $summary,)*
                }
            }
        }
    };
}

variants! {
    /// The new ratchet key is generated only when the party next sends
    /// (\[DR\] §6.5 allows it; Olm does so), not on receipt of the peer's new
    /// ratchet key. A state captured in between holds no next private key.
    DeferredKeyGeneration {
        name: "deferred-key-generation",
        summary: "the next ratchet key is generated when the party next sends",
    }
    /// The new ratchet key is drawn inside the DH ratchet step, before the tag
    /// check (the spec's pseudocode order; libsignal), and the state is
    /// discarded on failure. Like a shim following docs/SHIM.md §4.3, a draw
    /// past the end of the injected list is an error, and a failed
    /// decryption gives its drawn key back.
    KeyGenerationBeforeMac {
        name: "key-generation-before-mac",
        summary: "the next ratchet key is drawn before the tag check and given back on failure",
    }
    /// No window of recent ratchet keys (SPEC.md §8.3): a replay on an older
    /// chain fails authentication as in \[DR\]'s plain algorithm.
    NoPreviousKeyWindow {
        name: "no-previous-key-window",
        summary: "no window of recent ratchet keys: old-chain replays fail authentication",
    }
    /// No duplicate check at all, as in \[DR\]'s pseudocode: a message whose
    /// key is gone — a replay on the current chain (`n < Nr`, SPEC.md §5.4
    /// step 3) or on an older one — is opened with the key the algorithm
    /// derives instead (the current chain's next, or a DH ratchet step's) and
    /// fails authentication.
    NoDuplicateCheck {
        name: "no-duplicate-check",
        summary: "no duplicate check: every replay fails authentication, as in the DR pseudocode",
    }
    /// No all-zero DH output check (optional hardening, SPEC.md §2.1): a
    /// small-order ratchet key gives keys from the zero output, whose tag fails.
    NoSmallOrderCheck {
        name: "no-small-order-check",
        summary: "no all-zero DH output check",
    }
    /// The responder remembers the initial messages it accepted, by sender
    /// identity and base key, and refuses one seen again as a duplicate
    /// (libsignal's per-sender session lookup).
    PerSenderResponder {
        name: "per-sender-responder",
        summary: "the responder refuses an initial message it already accepted as a duplicate",
    }
    /// The initiator verifies the signed prekey's signature before it checks
    /// the lengths of IKb, SPKb and the signature: a wrong-length one fails
    /// verification, `authentication` (SPEC.md §9: either order conforms).
    SignatureCheckedFirst {
        name: "signature-checked-first",
        summary: "the initiator verifies the signature before it checks key and signature lengths",
    }
    /// The responder keeps nothing but its prekeys: a replayed initial
    /// message without a one-time prekey is a new session (X3DH §4.2). This
    /// is the reference's behaviour; the row keeps it a control, so a vector
    /// that demanded the per-sender refusal would fail it.
    StatelessResponder {
        name: "stateless-responder",
        summary: "the responder accepts a replayed initial message without a one-time prekey",
    }
    /// XEdDSA verification exactly as \[XEdDSA\]'s pseudocode: the Edwards
    /// key always has sign 0, so a libsignal-convention signature (bit 255
    /// of `S` set) fails the `s < 2^253` bound. Conforms in the default
    /// suite, the one this mutant implements (SPEC.md §7.3 "What conforms");
    /// `signal-v3` requires libsignal's convention (SIGNAL-V3.md §6).
    XeddsaSignZero {
        name: "xeddsa-sign-zero",
        summary: "XEdDSA verification with sign 0 always: libsignal's sign-bit signatures refused",
    }
    /// XEdDSA verification that also requires `s < q`, as RFC 8032 and
    /// libsodium do: an unreduced `s` in `[q, 2^253)` is refused. Conforms in
    /// the default suite (SPEC.md §7.3 "What conforms").
    XeddsaCanonicalS {
        name: "xeddsa-canonical-s",
        summary: "XEdDSA verification also requires s < q (RFC 8032)",
    }
    /// vodozemac's key store (docs/OLM-V1.md §7): 40 skipped keys per
    /// receiver chain, dropped with the chain, instead of libolm's 40 for
    /// the whole session.
    OlmPerChainKeyStore {
        name: "olm-per-chain-key-store",
        summary: "olm-v1: 40 skipped keys per receiver chain, dropped with it (vodozemac)",
    }
    /// libolm's error classes (OLM-V1.md §6): every decryption failure that
    /// is not a parse failure is `BAD_MESSAGE_MAC`, so a replay and a gap
    /// above 2000 are `authentication`.
    OlmErrorsAsAuthentication {
        name: "olm-errors-as-authentication",
        summary: "olm-v1: replays and oversized gaps refused as authentication (libolm)",
    }
    /// vodozemac (OLM-V1.md §7): a new chain while holding no ratchet key is
    /// accepted if it verifies — it starts a sender chain first, as a send
    /// would — where libolm refuses it.
    OlmNewChainWithoutRatchetKey {
        name: "olm-new-chain-without-ratchet-key",
        summary: "olm-v1: a validly keyed new chain is accepted while holding no ratchet key (vodozemac)",
    }
    /// libolm (finding L3, OLM-V1.md §7): no all-zero DH output check, so a
    /// small-order key yields keys from the zero output; refusing it is
    /// optional hardening.
    OlmSmallOrderAccepted {
        name: "olm-small-order-accepted",
        summary: "olm-v1: no all-zero DH output check (libolm)",
    }
    /// libolm (finding L6): a key of the wrong length inside a message is a
    /// format error, `malformed`, where the reference says `invalid_key`.
    OlmKeyLengthMalformed {
        name: "olm-key-length-malformed",
        summary: "olm-v1: a wrong-length key in a message is malformed (libolm)",
    }
}

impl Variant {
    /// The variant with this [`Variant::name`].
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}
