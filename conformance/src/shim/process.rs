//! One shim subprocess, driven so that nothing it does can block the runner.
//!
//! The child runs as `sh -c COMMAND` in a process group of its own. A writer
//! thread feeds its stdin, a reader thread cuts its stdout into lines of
//! bounded length, and a third thread keeps the tail of its stderr. The
//! runner only ever waits on a channel with a deadline, so a shim that stops
//! reading, stops writing, or writes without end costs at most one timeout;
//! then the whole group is killed, which also unblocks the threads. Plain
//! `std::process` and threads are enough for this: no async runtime, and the
//! only extra dependency is `rustix`, for the one safe call that signals a
//! process group.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// What the stdout reader saw.
#[derive(Debug)]
pub(crate) enum Event {
    /// One line, without its `\n` (and without a `\r` before it).
    Line(Vec<u8>),
    /// A line grew past the limit; the reader stopped.
    TooLong,
    /// Stdout closed; `partial` is true if an unterminated line was pending.
    Closed {
        /// Bytes after the last newline were discarded.
        partial: bool,
    },
    /// Reading failed.
    ReadError(String),
    /// Nothing arrived before the deadline.
    TimedOut,
}

/// The last bytes a process wrote to stderr.
#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    cap: usize,
    cut: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > self.cap.saturating_mul(2) {
            let cut = self.bytes.len() - self.cap;
            self.bytes.drain(..cut);
            self.cut = true;
        }
    }

    fn text(&self) -> String {
        let start = self.bytes.len().saturating_sub(self.cap);
        let tail = self.bytes.get(start..).unwrap_or_default();
        let text = String::from_utf8_lossy(tail).into_owned();
        if self.cut || start > 0 {
            format!("[… earlier output cut]\n{text}")
        } else {
            text
        }
    }
}

/// A running shim.
pub(crate) struct ShimProcess {
    child: Child,
    stdin: Option<Sender<Vec<u8>>>,
    stdout: Receiver<Event>,
    stderr: Arc<Mutex<Tail>>,
    stderr_closed: Receiver<()>,
    reaped: Option<ExitStatus>,
}

impl ShimProcess {
    /// Starts `sh -c command` with piped stdin, stdout and stderr.
    pub(crate) fn spawn(
        command: &str,
        max_line_bytes: usize,
        stderr_tail_bytes: usize,
    ) -> std::io::Result<Self> {
        let mut cmd = shell(command);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd.spawn()?;
        let missing = || std::io::Error::other("a standard stream of the child was not piped");
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let stderr = child.stderr.take().ok_or_else(missing)?;

        let (stdin_tx, stdin_rx) = mpsc::channel::<Vec<u8>>();
        thread::Builder::new()
            .name("shim-stdin".into())
            .spawn(move || write_lines(stdin, stdin_rx))?;

        // Bounded: a shim that floods stdout blocks on its own writes instead
        // of filling the runner's memory until the next fault is noticed.
        let (stdout_tx, stdout_rx) = mpsc::sync_channel(4);
        thread::Builder::new()
            .name("shim-stdout".into())
            .spawn(move || read_lines(stdout, max_line_bytes, stdout_tx))?;

        let tail = Arc::new(Mutex::new(Tail {
            bytes: Vec::new(),
            cap: stderr_tail_bytes,
            cut: false,
        }));
        let (closed_tx, closed_rx) = mpsc::channel();
        let sink = Arc::clone(&tail);
        thread::Builder::new()
            .name("shim-stderr".into())
            .spawn(move || {
                let mut stderr = stderr;
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stderr.read(&mut buf) {
                    let chunk = buf.get(..n).unwrap_or_default();
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(chunk);
                }
                let _ = closed_tx.send(());
            })?;

        Ok(Self {
            child,
            stdin: Some(stdin_tx),
            stdout: stdout_rx,
            stderr: tail,
            stderr_closed: closed_rx,
            reaped: None,
        })
    }

    /// Queues one line for the child's stdin; false if the writer has stopped
    /// (the child closed its stdin or exited).
    pub(crate) fn send(&mut self, line: Vec<u8>) -> bool {
        self.stdin.as_ref().is_some_and(|tx| tx.send(line).is_ok())
    }

    /// The next stdout event, waiting until `deadline` at most.
    pub(crate) fn recv(&mut self, deadline: Instant) -> Event {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.stdout.recv_timeout(wait) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => Event::TimedOut,
            // The reader thread ended without saying why: treat as closed.
            Err(RecvTimeoutError::Disconnected) => Event::Closed { partial: false },
        }
    }

    /// Forgets stderr written so far (a new test case starts).
    pub(crate) fn clear_stderr(&self) {
        let mut tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        tail.bytes.clear();
        tail.cut = false;
    }

    /// The stderr tail; waits briefly for the stderr thread to drain first
    /// if the process is gone.
    pub(crate) fn stderr_text(&self) -> String {
        if self.reaped.is_some() {
            let _ = self.stderr_closed.recv_timeout(Duration::from_millis(200));
        }
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .text()
    }

    /// How the process ended, waiting up to `within` for it to end.
    pub(crate) fn exit_status(&mut self, within: Duration) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            let deadline = Instant::now() + within;
            loop {
                match self.child.try_wait() {
                    Ok(Some(status)) => {
                        self.reaped = Some(status);
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    _ => break,
                }
            }
        }
        self.reaped
    }

    /// Kills the process group at once and reaps the child.
    pub(crate) fn kill(&mut self) {
        self.stdin = None;
        if self.reaped.is_none() {
            kill_group(&mut self.child);
            let _ = self.exit_status(Duration::from_secs(2));
        }
    }

    /// Closes stdin (the protocol's "exit now"), gives the process `grace` to
    /// exit, then kills it.
    pub(crate) fn shutdown(&mut self, grace: Duration) {
        self.stdin = None;
        if self.exit_status(grace).is_none() {
            self.kill();
        }
    }
}

impl Drop for ShimProcess {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(2));
    }
}

#[cfg(unix)]
fn shell(command: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command);
    cmd
}

#[cfg(not(unix))]
fn shell(command: &str) -> Command {
    let mut cmd = Command::new("cmd");
    cmd.arg("/C").arg(command);
    cmd
}

/// SIGKILL to the child's whole process group (the shell and anything it
/// started), then to the child itself in case the group call failed.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
}

fn write_lines(mut stdin: impl Write, lines: Receiver<Vec<u8>>) {
    for line in lines {
        if stdin.write_all(&line).and_then(|()| stdin.flush()).is_err() {
            break;
        }
    }
}

fn read_lines(stdout: impl Read, max_line_bytes: usize, events: SyncSender<Event>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    loop {
        let event = read_line(&mut reader, max_line_bytes);
        let last = !matches!(event, Event::Line(_));
        if events.send(event).is_err() || last {
            return;
        }
    }
}

/// Reads up to and including one `\n`, never holding more than `max` bytes.
fn read_line(reader: &mut impl BufRead, max: usize) -> Event {
    let mut line = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Event::ReadError(e.to_string()),
        };
        if buf.is_empty() {
            return Event::Closed {
                partial: !line.is_empty(),
            };
        }
        let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (buf.get(..i).unwrap_or_default(), true),
            None => (buf, false),
        };
        if line.len().saturating_add(chunk.len()) > max {
            return Event::TooLong;
        }
        line.extend_from_slice(chunk);
        let used = chunk.len() + usize::from(found);
        reader.consume(used);
        if found {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Event::Line(line);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn events(input: &[u8], max: usize) -> Vec<String> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            let e = read_line(&mut reader, max);
            let last = !matches!(e, Event::Line(_));
            out.push(match e {
                Event::Line(l) => format!("line {}", String::from_utf8_lossy(&l)),
                other => format!("{other:?}"),
            });
            if last {
                return out;
            }
        }
    }

    #[test]
    fn lines_are_cut_at_newlines_within_the_limit() {
        assert_eq!(
            events(b"ab\r\ncdefgh\n\nx", 8),
            [
                "line ab",
                "line cdefgh",
                "line ",
                "Closed { partial: true }"
            ]
        );
        assert_eq!(events(b"123456789\n", 8), ["TooLong"]);
        assert_eq!(
            events(b"12345678\n", 8),
            ["line 12345678", "Closed { partial: false }"]
        );
    }

    #[test]
    fn the_stderr_tail_keeps_the_last_bytes() {
        let mut tail = Tail {
            bytes: Vec::new(),
            cap: 4,
            cut: false,
        };
        for chunk in [b"abc".as_slice(), b"defgh", b"ij"] {
            tail.push(chunk);
        }
        assert_eq!(tail.text(), "[… earlier output cut]\nghij");
    }
}
