//! `ratchetproof-faulty-shim` (test-only): the reference shim, except that it
//! misbehaves on the requests a test selects, so the robustness rules of the
//! shim client can be proved (`tests/shim.rs`).
//!
//! `RATCHETPROOF_FAULTS` holds rules `BEHAVIOUR=NEEDLE` separated by `;`: a
//! request whose raw line contains NEEDLE gets BEHAVIOUR (the first matching
//! rule wins). A test picks a needle that only one case's requests contain
//! (a key of that case), or `handshake` to break every start. Behaviours:
//!
//! | behaviour | what the shim does |
//! | --- | --- |
//! | `crash` | writes to stderr, exits with status 3 without answering |
//! | `exit` | exits with status 0 without answering |
//! | `hang` | writes to stderr, never answers |
//! | `garbage` | answers with a line that is not JSON |
//! | `non_utf8` | answers with a line holding invalid UTF-8 |
//! | `long_line` | answers with a line of `RATCHETPROOF_FAULTY_LONG_BYTES` bytes (default 1 MiB) |
//! | `partial` | writes half a response without a newline, then never answers |
//! | `wrong_id` | answers correctly but under another id |
//! | `unknown_class` | answers with an error of a class the harness does not know |
//! | `bad_result` | answers with a result that lacks the operation's fields |
//! | `slow` | answers correctly after `RATCHETPROOF_FAULTY_SLOW_MS` ms (default 200) |

use std::io::{BufRead, Write, stdin, stdout};
use std::process::ExitCode;
use std::time::Duration;

use ratchetproof::Reference;
use ratchetproof::implementation::{
    Capabilities, ImplResult, Implementation, Operation, Request, Response,
};
use ratchetproof::shim::server;

/// The reference without the `prekey` group, so `ratchetproof interop`
/// against this shim meets a peer that declines it (`tests/interop.rs`).
struct WithoutPrekeys(Reference);

impl Implementation for WithoutPrekeys {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.0.capabilities();
        caps.operations.remove(&Operation::Prekey);
        caps
    }

    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        match request {
            Request::PrekeyInitiate(_) | Request::PrekeyRespond(_) => {
                Err(ratchetproof::ImplError::unsupported(
                    "this shim does not offer the prekey operations",
                ))
            }
            other => other.answer(&mut self.0),
        }
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn request_id(line: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64))
        .unwrap_or(0)
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn main() -> ExitCode {
    let rules: Vec<(String, String)> = std::env::var("RATCHETPROOF_FAULTS")
        .unwrap_or_default()
        .split(';')
        .filter_map(|rule| rule.split_once('='))
        .map(|(b, n)| (b.trim().to_string(), n.trim().to_string()))
        .filter(|(_, n)| !n.is_empty())
        .collect();
    let mut reference = WithoutPrekeys(Reference::new());
    let mut out = stdout().lock();
    for line in stdin().lock().lines() {
        let Ok(line) = line else {
            return ExitCode::FAILURE;
        };
        let id = request_id(&line);
        let behaviour = rules
            .iter()
            .find(|(_, needle)| line.contains(needle.as_str()))
            .map(|(b, _)| b.as_str());
        let response: Vec<u8> = match behaviour {
            Some("crash") => {
                eprintln!("faulty shim: crashing on request {id}");
                return ExitCode::from(3);
            }
            Some("exit") => return ExitCode::SUCCESS,
            Some("hang") => {
                eprintln!("faulty shim: hanging on request {id}");
                hang()
            }
            Some("garbage") => b"this is not JSON".to_vec(),
            Some("non_utf8") => b"{\"id\": 1, \"result\": \"\xff\xfe\"}".to_vec(),
            Some("long_line") => {
                let len = env_number("RATCHETPROOF_FAULTY_LONG_BYTES", 1 << 20);
                vec![b'x'; usize::try_from(len).unwrap_or(1 << 20)]
            }
            Some("partial") => {
                let _ = out.write_all(format!("{{\"id\": {id}, \"res").as_bytes());
                let _ = out.flush();
                hang()
            }
            Some("wrong_id") => {
                let good = server::respond(&mut reference, &line);
                good.replacen(&format!("\"id\":{id}"), &format!("\"id\":{}", id + 1000), 1)
                    .into_bytes()
            }
            Some("unknown_class") => {
                format!("{{\"id\":{id},\"error\":{{\"class\":\"mystery\",\"message\":\"?\"}}}}")
                    .into_bytes()
            }
            Some("bad_result") => format!("{{\"id\":{id},\"result\":{{\"nope\":1}}}}").into_bytes(),
            Some("slow") => {
                std::thread::sleep(Duration::from_millis(env_number(
                    "RATCHETPROOF_FAULTY_SLOW_MS",
                    200,
                )));
                server::respond(&mut reference, &line).into_bytes()
            }
            _ => server::respond(&mut reference, &line).into_bytes(),
        };
        if out
            .write_all(&response)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
