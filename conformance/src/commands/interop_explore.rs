//! `ratchetproof interop --explore`: seeded random interleavings of live
//! conversations with a peer ([`crate::interop::explore`]), the first
//! divergence shrunk and printed. Exit 0 when nothing is found, 1 on a
//! divergence, 2 when there is no verdict (the shim does not start, does not
//! offer the `prekey` group or the suite, or faults).

use super::{Console, Exit, no_verdict, say, sayln};
use crate::implementation::{Implementation, Operation};
use crate::interop::explore::{self, Exploration, ExploreOptions, Replayed, Verdict};
use crate::shim::{ShimClient, ShimConfig};

/// The arguments of `ratchetproof interop --explore`.
#[derive(Clone, Debug)]
pub struct InteropExploreArgs {
    /// The peer's shim command.
    pub shim: String,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// What to explore.
    pub options: ExploreOptions,
}

/// Starts the shim and explores; see the module doc for the exit status.
pub fn interop_explore(args: InteropExploreArgs, console: &mut Console<'_>) -> Exit {
    if let Err(e) = crate::interop::check_suite(&args.options.suite, args.options.one_time_prekey) {
        return no_verdict(console, e);
    }
    let mut config = ShimConfig::new(args.shim.clone());
    config.timeout = std::time::Duration::from_millis(args.timeout_ms);
    let mut peer = match ShimClient::start(config) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    explore_peer(&mut peer, &args.shim, &args.options, console)
}

/// Explores `peer` (its shim command `shim`, for the replay line) and
/// prints the result.
pub fn explore_peer(
    peer: &mut dyn Implementation,
    shim: &str,
    options: &ExploreOptions,
    console: &mut Console<'_>,
) -> Exit {
    let caps = peer.capabilities();
    if !caps.operations.contains(&Operation::Prekey) {
        return no_verdict(
            console,
            format!(
                "{} {} does not offer the `prekey` operation group: nothing to explore",
                caps.name, caps.version
            ),
        );
    }
    if !caps.injected_randomness {
        return no_verdict(
            console,
            format!(
                "{} {} takes no injected randomness: --explore injects every key \
                 (the fixed conversations of `interop` without --explore speak the \
                 key-less olm-v1 extension, docs/SHIM.md §4.4)",
                caps.name, caps.version
            ),
        );
    }
    if crate::interop::check_suite(&options.suite, true).is_err()
        || !caps.suites.contains(&options.suite)
    {
        return no_verdict(
            console,
            format!(
                "suite {:?} is not spoken by both the reference and {} {}",
                options.suite, caps.name, caps.version
            ),
        );
    }
    let progress = console.progress;
    let err = &mut *console.err;
    let exploration = explore::explore(peer, options, &mut |n| {
        if progress {
            say!(err, "\rcase {n} …");
            let _ = err.flush();
        }
    });
    if progress {
        say!(console.err, "\r");
    }
    report(&exploration, shim, options, console)
}

fn report(
    e: &Exploration,
    shim: &str,
    options: &ExploreOptions,
    console: &mut Console<'_>,
) -> Exit {
    let c = &e.coverage;
    let summary = format!(
        "{} cases of seed {} in {:.1} s: {} messages sent, {} delivered ({} initial, {} out of order), \
         {} dropped, {} replays and {} tampered copies refused, {} refusals of messages from \
         chains dropped by the receiver's limit, up to {} DH ratchet steps",
        e.cases,
        options.seed,
        e.elapsed.as_secs_f64(),
        c.sends,
        c.deliveries,
        c.prekey_deliveries,
        c.out_of_order,
        c.drops,
        c.replays,
        c.tampered,
        c.allowed_refusals,
        c.deepest_chain
    ) + &c
        .accepted_deviations
        .iter()
        .map(|(k, v)| format!("; {v} cases ended in accepted deviation {k}"))
        .collect::<String>();
    match &e.verdict {
        Verdict::NothingFound => {
            sayln!(console.out, "nothing found: {summary}");
            Exit::Success
        }
        Verdict::Fault { case, message } => {
            sayln!(console.out, "{summary}");
            no_verdict(console, format!("case {case}: the peer faulted: {message}"))
        }
        Verdict::Found(f) => {
            let d = &f.divergence;
            sayln!(
                console.out,
                "DIVERGED  case {} of seed {} ({}), after {summary}",
                f.original.number,
                options.seed,
                d.direction
            );
            sayln!(console.out, "signature: {}", d.signature);
            sayln!(
                console.out,
                "minimal conversation: {} of {} actions (shrunk in {} replays{}):",
                f.minimal.actions.len(),
                f.original.actions.len(),
                f.shrink_runs,
                f.shrink_note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            );
            for line in explore::describe(f) {
                sayln!(console.out, "{line}");
            }
            match &f.replayed {
                Replayed::Same => sayln!(
                    console.out,
                    "replayed once more: diverged again at the same step (deterministic)"
                ),
                Replayed::Different(what) => sayln!(
                    console.out,
                    "replayed once more: {what} — the peer is not deterministic on the same \
                     inputs (its own randomness or state); the conversation above is the last \
                     one that diverged"
                ),
            }
            let mut flags = format!(
                "--suite {} --explore --seed {} --max-actions {}",
                options.suite, options.seed, options.max_actions
            );
            if !options.one_time_prekey {
                flags.push_str(" --without-one-time-prekey");
            }
            for a in &options.accepted {
                flags.push_str(&format!(" --accept-deviation {a}"));
            }
            sayln!(
                console.out,
                "reproduce: ratchetproof interop --shim {shim:?} {flags} --first-case {} --cases 1",
                f.original.number
            );
            sayln!(
                console.out,
                "go on past it: the same with --first-case {} and --accept-deviation {}",
                f.original.number + 1,
                d.signature
            );
            Exit::Failure
        }
    }
}
