//! [`ShimClient`]: an [`Implementation`] whose calls are requests to a shim
//! subprocess (`docs/SHIM.md`).
//!
//! Robustness rules: a shim that crashes, hangs past the per-request timeout,
//! writes a line that is not UTF-8, not JSON, not a response, too long, or
//! answers with the wrong id, has *faulted*. The client kills it, records a
//! [`Fault`] with its stderr tail (the runner turns that into an errored
//! case), answers every further call of the same case at once with an error,
//! and starts a fresh process on the first call after the next `reset`. If
//! the shim cannot be started several times in a row, the client gives up and
//! every later case errors immediately, so a broken shim costs seconds, not
//! hours.

use std::time::{Duration, Instant};

use crate::implementation::ErrorClass;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::process::{Event, ShimProcess};
use super::protocol::{
    AcceptOutcome, ChainResult, Handshake, KeysResult, MessageResult, PROTOCOL_VERSION,
    PlaintextResult, PrekeyEntry, Request, RequestLine, ResponseLine, RootResult, SessionResult,
    StateResult, X3dhAcceptResult, X3dhResult,
};
use crate::implementation::{
    Capabilities, Fault, ImplError, ImplResult, Implementation, SessionHandle, SessionInit,
    X3dhAccept, X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use crate::vectors::Hex;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest accepted response line (bytes, without the newline).
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Default amount of stderr kept for the report of an errored case.
pub const DEFAULT_STDERR_TAIL_BYTES: usize = 8 * 1024;
/// Consecutive failed starts after which the client stops trying.
pub const DEFAULT_MAX_FAILED_STARTS: u32 = 3;
/// How long a shim gets to exit after its stdin closes before it is killed.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How to start and drive a shim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimConfig {
    /// Run as `sh -c COMMAND` (so quoting, `cd`, environment variables and
    /// `exec` work as in a shell), in the runner's working directory.
    pub command: String,
    /// Longest wait for one response, the handshake included.
    pub timeout: Duration,
    /// Longest accepted response line.
    pub max_line_bytes: usize,
    /// Stderr kept for errored cases.
    pub stderr_tail_bytes: usize,
    /// Consecutive failed starts before giving up.
    pub max_failed_starts: u32,
}

impl ShimConfig {
    /// `command` with the default limits.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            timeout: DEFAULT_TIMEOUT,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            stderr_tail_bytes: DEFAULT_STDERR_TAIL_BYTES,
            max_failed_starts: DEFAULT_MAX_FAILED_STARTS,
        }
    }
}

/// The shim could not be started or did not complete its handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shim `{command}`: {message}{}", stderr_suffix(.stderr))]
pub struct StartError {
    /// The command.
    pub command: String,
    /// What went wrong.
    pub message: String,
    /// Its stderr tail.
    pub stderr: String,
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("\n--- shim stderr ---\n{}", stderr.trim_end())
    }
}

enum Reply {
    Result(Value),
    Error(ImplError),
}

/// An implementation behind the shim protocol.
pub struct ShimClient {
    config: ShimConfig,
    handshake: Handshake,
    process: Option<ShimProcess>,
    next_id: u64,
    /// Fault not yet taken by the runner.
    fault: Option<Fault>,
    /// A fault happened in the current case: answer at once until `reset`.
    poisoned: bool,
    /// Sessions may exist in the process, so `reset` must be sent.
    dirty: bool,
    failed_starts: u32,
    /// Why the client stopped restarting the shim.
    dead: Option<String>,
}

impl std::fmt::Debug for ShimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShimClient")
            .field("command", &self.config.command)
            .field("running", &self.process.is_some())
            .finish_non_exhaustive()
    }
}

impl ShimClient {
    /// Starts the shim and completes the handshake.
    pub fn start(config: ShimConfig) -> Result<Self, StartError> {
        let mut next_id = 1;
        let (process, handshake) = start_process(&config, &mut next_id)?;
        Ok(Self {
            config,
            handshake,
            process: Some(process),
            next_id,
            fault: None,
            poisoned: false,
            dirty: false,
            failed_starts: 0,
            dead: None,
        })
    }

    /// What the shim declared in its handshake.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Records a fault, kills the process and returns the error the
    /// interrupted call reports (the runner makes the case errored anyway).
    fn fault(&mut self, message: String) -> ImplError {
        let stderr = self.process.take().map(|mut p| {
            p.kill();
            p.stderr_text()
        });
        self.poisoned = true;
        self.dirty = false;
        let error = ImplError::new(ErrorClass::State, format!("shim fault: {message}"));
        if self.fault.is_none() {
            self.fault = Some(Fault {
                message,
                stderr: stderr.filter(|s| !s.trim().is_empty()),
            });
        }
        error
    }

    fn ensure_process(&mut self) -> Result<&mut ShimProcess, String> {
        if let Some(reason) = &self.dead {
            return Err(reason.clone());
        }
        if self.process.is_none() {
            match start_process(&self.config, &mut self.next_id) {
                Ok((process, handshake)) if handshake == self.handshake => {
                    self.failed_starts = 0;
                    self.process = Some(process);
                }
                Ok((mut process, _)) => {
                    process.kill();
                    return Err(self.failed_start(
                        "after a restart the shim declared other capabilities than at the start"
                            .into(),
                    ));
                }
                Err(e) => {
                    let message =
                        self.failed_start(format!("restarting the shim failed: {}", e.message));
                    if !e.stderr.trim().is_empty() {
                        self.fault = self.fault.take().or(Some(Fault {
                            message: message.clone(),
                            stderr: Some(e.stderr),
                        }));
                    }
                    return Err(message);
                }
            }
        }
        self.process
            .as_mut()
            .ok_or_else(|| "the shim is not running".to_string())
    }

    /// Counts a failed (re)start; after too many in a row the client gives up.
    fn failed_start(&mut self, mut message: String) -> String {
        self.failed_starts += 1;
        if self.failed_starts >= self.config.max_failed_starts {
            message.push_str(&format!(
                " ({} failed starts in a row; the shim is not restarted again)",
                self.failed_starts
            ));
            self.dead = Some(message.clone());
        }
        message
    }

    /// Sends one request and reads its result (faults are recorded for
    /// [`Implementation::take_fault`]).
    pub(crate) fn call<T: DeserializeOwned>(&mut self, request: Request) -> ImplResult<T> {
        if self.poisoned {
            return Err(ImplError::new(
                ErrorClass::State,
                "not sent: the shim faulted earlier in this case",
            ));
        }
        let op = request.op();
        if matches!(
            request,
            Request::InitSession { .. }
                | Request::CloneSession { .. }
                | Request::Encrypt { .. }
                | Request::Decrypt { .. }
                | Request::PrekeyInitiate { .. }
                | Request::X3dhAccept { .. }
                | Request::PrekeyRespond { .. }
        ) {
            self.dirty = true;
        }
        let id = self.id();
        let (timeout, max_line) = (self.config.timeout, self.config.max_line_bytes);
        let process = match self.ensure_process() {
            Ok(p) => p,
            Err(message) => return Err(self.fault(format!("{op}: {message}"))),
        };
        match exchange(process, id, request, timeout, max_line) {
            Ok(Reply::Result(value)) => serde_json::from_value(value).map_err(|e| {
                self.fault(format!(
                    "{op} (request id {id}): the result does not have the fields of a {op} result: {e}"
                ))
            }),
            Ok(Reply::Error(error)) => Err(error),
            Err(message) => Err(self.fault(format!("{op} (request id {id}): {message}"))),
        }
    }
}

/// Spawns the shim and performs the handshake.
fn start_process(
    config: &ShimConfig,
    next_id: &mut u64,
) -> Result<(ShimProcess, Handshake), StartError> {
    let error = |message: String, stderr: String| StartError {
        command: config.command.clone(),
        message,
        stderr,
    };
    let mut process = ShimProcess::spawn(
        &config.command,
        config.max_line_bytes,
        config.stderr_tail_bytes,
    )
    .map_err(|e| error(format!("cannot start it: {e}"), String::new()))?;
    let id = *next_id;
    *next_id += 1;
    let request = Request::Handshake {
        protocol: PROTOCOL_VERSION,
    };
    let outcome = match exchange(
        &mut process,
        id,
        request,
        config.timeout,
        config.max_line_bytes,
    ) {
        Ok(Reply::Result(value)) => serde_json::from_value::<Handshake>(value)
            .map_err(|e| format!("the handshake result is not valid: {e}"))
            .and_then(|h| match h.protocol {
                Some(v) if v != PROTOCOL_VERSION => Err(format!(
                    "the shim speaks protocol version {v}; this runner speaks {PROTOCOL_VERSION}"
                )),
                _ => Ok(h),
            }),
        Ok(Reply::Error(e)) => Err(format!("the shim refused the handshake: {e}")),
        Err(message) => Err(format!("handshake: {message}")),
    };
    match outcome {
        Ok(handshake) => Ok((process, handshake)),
        Err(message) => {
            process.kill();
            Err(error(message, process.stderr_text()))
        }
    }
}

/// Sends one request and reads its response. `Err` is a protocol fault.
fn exchange(
    process: &mut ShimProcess,
    id: u64,
    request: Request,
    timeout: Duration,
    max_line: usize,
) -> Result<Reply, String> {
    let mut line = serde_json::to_vec(&RequestLine { id, request })
        .map_err(|e| format!("cannot encode the request: {e}"))?;
    line.push(b'\n');
    let started = Instant::now();
    if !process.send(line) {
        return Err(exited(process, "stopped reading its stdin"));
    }
    let raw = match process.recv(started + timeout) {
        Event::Line(raw) => raw,
        Event::TimedOut => {
            return Err(format!(
                "no response within the timeout of {} ms",
                timeout.as_millis()
            ));
        }
        Event::TooLong => {
            return Err(format!(
                "the response line is longer than the limit of {max_line} bytes"
            ));
        }
        Event::Closed { partial } => {
            let what = if partial {
                "closed its stdout in the middle of a line"
            } else {
                "closed its stdout without answering"
            };
            return Err(exited(process, what));
        }
        Event::ReadError(e) => return Err(format!("reading its stdout failed: {e}")),
    };
    let text = String::from_utf8(raw).map_err(|e| {
        format!(
            "the response is not UTF-8 (invalid byte at offset {}): {}",
            e.utf8_error().valid_up_to(),
            excerpt(&String::from_utf8_lossy(e.as_bytes()))
        )
    })?;
    let response: ResponseLine = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the response is not a response line ({e}): {}",
            excerpt(&text)
        )
    })?;
    if response.id != id {
        return Err(format!(
            "the response has id {} but the request had id {id}",
            response.id
        ));
    }
    match (response.result, response.error) {
        (Some(value), None) => Ok(Reply::Result(value)),
        (None, Some(error)) => match ErrorClass::from_name(&error.class) {
            Some(class) => Ok(Reply::Error(ImplError::new(class, error.message))),
            None => Err(format!(
                "unknown error class {:?} (known: {})",
                error.class,
                ErrorClass::ALL.map(ErrorClass::as_str).join(", ")
            )),
        },
        (Some(_), Some(_)) => Err("the response has both a result and an error".into()),
        (None, None) => Err("the response has neither a result nor an error".into()),
    }
}

fn exited(process: &mut ShimProcess, what: &str) -> String {
    match process.exit_status(Duration::from_millis(500)) {
        Some(status) => format!("the shim {what} and exited ({status})"),
        None => format!("the shim {what}"),
    }
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!(
            "{:?}… ({} bytes)",
            text.get(..cut).unwrap_or(""),
            text.len()
        ),
        None => format!("{text:?}"),
    }
}

fn hex(bytes: &[u8]) -> Hex {
    Hex(bytes.to_vec())
}

fn hexes(list: &[Vec<u8>]) -> Vec<Hex> {
    list.iter().map(|k| hex(k)).collect()
}

impl Implementation for ShimClient {
    fn capabilities(&self) -> Capabilities {
        self.handshake.capabilities()
    }

    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh_out: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let r: RootResult = self.call(Request::KdfRk {
            suite: suite.into(),
            root_key: hex(rk),
            dh_output: hex(dh_out),
        })?;
        Ok((r.root_key.0, r.chain_key.0))
    }

    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let r: ChainResult = self.call(Request::KdfCk {
            suite: suite.into(),
            chain_key: hex(ck),
        })?;
        Ok((r.chain_key.0, r.message_key.0))
    }

    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>> {
        let r: KeysResult = self.call(Request::MessageKeys {
            suite: suite.into(),
            message_key: hex(mk),
        })?;
        Ok(r.keys.0)
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
        let r: MessageResult = self.call(Request::Seal {
            suite: suite.into(),
            message_key: hex(mk),
            ratchet_key: hex(ratchet_key),
            pn,
            n,
            plaintext: hex(plaintext),
            ad: hex(ad),
        })?;
        Ok(r.message.0)
    }

    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        let r: X3dhResult = self.call(Request::X3dhInitiate {
            suite: request.suite.clone(),
            identity_private_key: hex(&request.identity_private_key),
            ephemeral_private_key: hex(&request.ephemeral_private_key),
            peer_identity_key: hex(&request.peer_identity_key),
            peer_signed_prekey: hex(&request.peer_signed_prekey),
            peer_signed_prekey_signature: hex(&request.peer_signed_prekey_signature),
            peer_one_time_prekey: request.peer_one_time_prekey.as_deref().map(hex),
        })?;
        Ok(X3dhOutput {
            shared_key: r.shared_key.0,
            associated_data: r.associated_data.0,
        })
    }

    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        let r: X3dhResult = self.call(Request::X3dhRespond {
            suite: request.suite.clone(),
            identity_private_key: hex(&request.identity_private_key),
            signed_prekey_private_key: hex(&request.signed_prekey_private_key),
            one_time_prekey_private_key: request.one_time_prekey_private_key.as_deref().map(hex),
            peer_identity_key: hex(&request.peer_identity_key),
            peer_ephemeral_key: hex(&request.peer_ephemeral_key),
        })?;
        Ok(X3dhOutput {
            shared_key: r.shared_key.0,
            associated_data: r.associated_data.0,
        })
    }

    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        let entries = |list: &[(u32, Vec<u8>)]| {
            list.iter()
                .map(|(id, key)| PrekeyEntry {
                    id: *id,
                    private_key: hex(key),
                })
                .collect()
        };
        let r: X3dhAcceptResult = self.call(Request::X3dhAccept {
            suite: request.suite.clone(),
            identity_private_key: hex(&request.identity_private_key),
            signed_prekeys: entries(&request.signed_prekeys),
            one_time_prekeys: entries(&request.one_time_prekeys),
            ratchet_private_keys: hexes(&request.ratchet_private_keys),
            initial_messages: hexes(&request.initial_messages),
        })?;
        if r.outcomes.len() != request.initial_messages.len() {
            return Err(self.fault(format!(
                "x3dh_accept: {} outcomes for {} initial messages",
                r.outcomes.len(),
                request.initial_messages.len()
            )));
        }
        let mut out = Vec::with_capacity(r.outcomes.len());
        for outcome in r.outcomes {
            out.push(match outcome {
                AcceptOutcome::Accepted {
                    plaintext,
                    associated_data,
                    peer_identity_key,
                } => Ok(X3dhAccepted {
                    plaintext: plaintext.0,
                    associated_data: associated_data.0,
                    peer_identity_key: peer_identity_key.0,
                }),
                AcceptOutcome::Refused { error } => match ErrorClass::from_name(&error.class) {
                    Some(class) => Err(ImplError::new(class, error.message)),
                    None => {
                        return Err(self.fault(format!(
                            "x3dh_accept: unknown error class {:?}",
                            error.class
                        )));
                    }
                },
            });
        }
        Ok(out)
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        let r: SessionResult = self.call(Request::InitSession {
            suite: init.suite.clone(),
            role: init.role.as_str().into(),
            shared_key: hex(&init.shared_key),
            ratchet_key: hex(&init.ratchet_key),
            ratchet_private_keys: hexes(&init.ratchet_private_keys),
            max_skip: init.max_skip,
            max_stored_skipped_keys: init.max_stored_skipped_keys,
        })?;
        Ok(SessionHandle(r.session))
    }

    fn encrypt(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let r: MessageResult = self.call(Request::Encrypt {
            session: session.0,
            plaintext: hex(plaintext),
            ad: hex(ad),
        })?;
        Ok(r.message.0)
    }

    fn decrypt(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let r: PlaintextResult = self.call(Request::Decrypt {
            session: session.0,
            message: hex(message),
            ad: hex(ad),
            message_type: None,
        })?;
        Ok(r.plaintext.0)
    }

    fn clone_session(
        &mut self,
        session: SessionHandle,
        ratchet_private_keys: &[Vec<u8>],
    ) -> ImplResult<SessionHandle> {
        let r: SessionResult = self.call(Request::CloneSession {
            session: session.0,
            ratchet_private_keys: hexes(ratchet_private_keys),
        })?;
        Ok(SessionHandle(r.session))
    }

    fn export_state(&mut self, session: SessionHandle) -> ImplResult<Vec<u8>> {
        let r: StateResult = self.call(Request::ExportState { session: session.0 })?;
        Ok(r.state.0)
    }

    fn reset(&mut self) {
        self.poisoned = false;
        if let Some(p) = &self.process {
            p.clear_stderr();
        }
        // A fresh (or restarted) process holds no sessions.
        if self.dirty && self.process.is_some() {
            self.dirty = false;
            let _ = self.call::<Value>(Request::Reset {});
        }
    }

    fn take_fault(&mut self) -> Option<Fault> {
        self.fault.take()
    }
}

impl Drop for ShimClient {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.shutdown(EXIT_GRACE);
        }
    }
}
