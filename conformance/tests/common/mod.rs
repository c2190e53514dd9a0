//! Shared by the test binaries that include it (`mod common;`).
//!
//! [`Adapted`] forwards every [`Implementation`] operation to an inner
//! implementation (through [`Implementation::forward`], so an operation added
//! to the trait is forwarded without an edit here), changing only what its
//! two hooks say. A test that needs an implementation "like X, except …"
//! uses it instead of writing its own forwarding impl.

use ratchetproof::implementation::{
    Capabilities, Decrypt, DecryptOutput, Fault, ImplError, ImplResult, Implementation,
    PrekeyRespond, PrekeyRespondOutput, Request, Response,
};

/// `inner`, with its declared capabilities passed through `caps` and every
/// decryption refusal (including a refused first pre-key message) through
/// `decrypt_error`.
pub struct Adapted<I> {
    pub inner: I,
    pub caps: fn(Capabilities) -> Capabilities,
    pub decrypt_error: fn(ImplError) -> ImplError,
}

impl<I> Adapted<I> {
    /// `inner` unchanged, to be adjusted with struct-update syntax.
    pub fn new(inner: I) -> Self {
        Self {
            inner,
            caps: |c| c,
            decrypt_error: |e| e,
        }
    }
}

impl<I: Implementation> Implementation for Adapted<I> {
    fn capabilities(&self) -> Capabilities {
        (self.caps)(self.inner.capabilities())
    }
    fn decrypt(&mut self, request: &Decrypt) -> ImplResult<DecryptOutput> {
        self.inner.decrypt(request).map_err(self.decrypt_error)
    }
    /// Bob's first message (a key-agreement suite's pre-key message) is decrypted here.
    fn prekey_respond(&mut self, request: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
        self.inner
            .prekey_respond(request)
            .map_err(self.decrypt_error)
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.inner)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn take_fault(&mut self) -> Option<Fault> {
        self.inner.take_fault()
    }
}
