//! Shared by the test binaries that include it (`mod common;`).
//!
//! [`Adapted`] forwards every [`Implementation`] method to an inner
//! implementation, changing only what its two hooks say. A test that needs
//! an implementation "like X, except …" uses it instead of writing its own
//! forwarding impl, so a method added to the trait is forwarded in one
//! place: a hand-written wrapper that misses one falls back to the trait's
//! default (a refusal) while still declaring the capability.

use ratchetproof::implementation::{
    Capabilities, Fault, ImplError, ImplResult, Implementation, SessionHandle, SessionInit,
    X3dhAccept, X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};

/// `inner`, with its declared capabilities passed through `caps` and every
/// decryption refusal through `decrypt_error`.
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
    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        self.inner.kdf_rk(suite, rk, dh)
    }
    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        self.inner.kdf_ck(suite, ck)
    }
    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>> {
        self.inner.message_keys(suite, mk)
    }
    fn seal(
        &mut self,
        suite: &str,
        mk: &[u8],
        ratchet_key: &[u8],
        pn: u32,
        n: u32,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        self.inner
            .seal(suite, mk, ratchet_key, pn, n, plaintext, ad)
    }
    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        self.inner.x3dh_initiate(request)
    }
    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        self.inner.x3dh_respond(request)
    }
    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        self.inner.x3dh_accept(request)
    }
    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        self.inner.init_session(init)
    }
    fn encrypt(&mut self, s: SessionHandle, plaintext: &[u8], ad: &[u8]) -> ImplResult<Vec<u8>> {
        self.inner.encrypt(s, plaintext, ad)
    }
    fn decrypt(&mut self, s: SessionHandle, message: &[u8], ad: &[u8]) -> ImplResult<Vec<u8>> {
        self.inner
            .decrypt(s, message, ad)
            .map_err(self.decrypt_error)
    }
    fn clone_session(&mut self, s: SessionHandle, keys: &[Vec<u8>]) -> ImplResult<SessionHandle> {
        self.inner.clone_session(s, keys)
    }
    fn export_state(&mut self, s: SessionHandle) -> ImplResult<Vec<u8>> {
        self.inner.export_state(s)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn take_fault(&mut self) -> Option<Fault> {
        self.inner.take_fault()
    }
}
