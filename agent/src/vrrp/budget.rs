//! The detection budget: for each kind of fault, how long it may last without a takeover and
//! how soon a fault that never ends is detected, derived from the parameters the router and
//! the dataplane run with. The simulator's properties check the router against exactly these
//! figures, and the daemon logs them for each instance with the echo on.
//!
//! # The rule being budgeted
//!
//! A backup declares the master down at `t` ([`crate::vrrp::Router::handle_timeout`]) only if
//! both hold:
//! 1. `t >= L + Master_Down_Interval`, with `L` the newest accepted liveness stamp (an advert
//!    or an echo, stamped at arrival by the backup's kernel or XDP program);
//! 2. with the echo on and the master's MAC known, a probe sent at `f <= t - echo_timeout` has
//!    had no accepted echo since (`f` is after the newest echo's arrival `Le`, and a probe
//!    goes out at most `echo_interval` after it), and this backup has not woken more than
//!    half the echo timeout late since `f` (a late wake-up starts the evidence again).
//!
//! So a silence that starts after the last signals `L` and `Le` and ends at `t_end` causes no
//! takeover if `t_end < max(L + MDI, Le + echo_timeout)`, and a silence that never ends is
//! detected by `max(L + MDI, Le + echo_interval + echo_timeout)`.
//!
//! # Per fault
//!
//! I: Master_Adver_Interval; MDI: this backup's Master_Down_Interval; E / T: echo interval /
//! timeout; P = min(I, E), the period of the liveness signals (I without the echo); B: the
//! master's dead-man bound; H: how often its agent stamps the heartbeat; d / J: the link's
//! one-way delay and jitter. With the echo off, drop every term that has E or T.
//!
//! - **Master gone** (its node crashed): nothing more comes from it, so
//!   `L, Le <= fault + d + J`. Detected within `max(MDI, E + T)`, plus epsilon `d + J`.
//! - **Master's agent stalled** (its scheduler, SIGSTOP; dead if it never resumes): adverts and
//!   heartbeat stamps stop, but its XDP program keeps reflecting probes until the heartbeat is
//!   older than B, i.e. until at least `fault + B - H`, so `Le >= fault + B - H - E - J + d`,
//!   and `L >= fault - I + d` from its adverts. The first signal after it resumes arrives by
//!   `end + d + J`. Tolerated: a stall shorter than
//!   `max(MDI - I - J, B - H - E - 2J + max(MDI, T))`. Never resuming, it is detected within
//!   `B + max(MDI, E + T)`, plus epsilon `d + J`.
//! - **Backup's agent stalled**: it processes nothing, but its kernel stamps what arrives;
//!   when it resumes it handles the queued records with their stamps before any timer, so
//!   `L` is recent and no stall length causes a takeover while the master lives. (The XDP
//!   ring's capacity is the real limit, not modelled.)
//! - **Every node frozen** (a hypervisor pausing the machine, kernels and agents together,
//!   nothing stamped; on the benchmark's 2-vCPU VM one CPU froze for 2-13 ms a few times a
//!   second): when it ends, the overdue timers wake the agents before the kernels deliver
//!   what the freeze held. A backup that wakes late restarts the echo's evidence with a probe
//!   sent then ([`crate::vrrp::liveness::EchoProber::woke`]), and the master, frozen too,
//!   advertises at once, so its advert arrives within `d + J` of the end. Tolerated: any
//!   length, if `T > d + J` (plus the microsecond the held frames take); otherwise as a
//!   link stall. Without the echo, as a link stall.
//! - **Link stalled** (a node's link softirq: adverts, probes and echoes held together, and
//!   stamped when released): the last signals before it are at most a period old,
//!   `L >= fault - P - 2J` and `Le >= fault - E - 2J`, and the held frames arrive at its end.
//!   Tolerated: `max(MDI - P, T - E) - d - 3J`; the echo cannot do better, since its echoes are
//!   held too. A stall that never ends is a cut.
//! - **Link cut** (a cable pulled: frames lost, in flight too): as a stall, but after the
//!   cable is back the first signal still has to be sent, which takes up to a period and a
//!   round trip: tolerated `max(MDI - P, T - E) - P - 2d - 5J`. Never plugged back, detected
//!   as master gone.
use std::time::Duration;

use super::liveness::EchoConfig;

/// How long after a freeze ends the kernels deliver what it held (the simulator's figure: a
/// held frame comes out after the woken realtime threads ran).
pub const FREEZE_RELEASE: Duration = Duration::from_micros(1);

/// What a backup's detection depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Master_Adver_Interval.
    pub advert_interval: Duration,
    /// This backup's Master_Down_Interval.
    pub master_down_interval: Duration,
    /// The liveness echo, when it is on.
    pub echo: Option<EchoConfig>,
    /// The master's XDP program reflects probes only while its agent's heartbeat is at most
    /// this old (used with the echo only)...
    pub deadman_bound: Duration,
    /// ... and its agent stamps the heartbeat this often.
    pub heartbeat_every: Duration,
    /// The link's one-way delay and its jitter.
    pub delay: Duration,
    pub jitter: Duration,
}

/// The kinds of fault the budget covers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The master's node crashed.
    MasterGone,
    /// The master's agent stopped running (its kernel lives).
    MasterAgentStall,
    /// This backup's agent stopped running.
    BackupAgentStall,
    /// A node's link held everything to and from it.
    LinkStall,
    /// Every node froze at once, kernels included.
    Freeze,
    /// A node's cable was pulled: everything to and from it lost.
    LinkCut,
}

/// What a fault of one kind may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// A fault shorter than this never causes a takeover (`Duration::MAX`: none does).
    pub tolerated: Duration,
    /// A fault that does not end is detected at most this long after it began; `None` when
    /// there is nothing to detect (this backup's own stall).
    pub detected_within: Option<Duration>,
}

/// The budget for `fault` under `p`; see the module docs for the derivation.
pub fn budget(fault: Fault, p: &Params) -> Budget {
    let (i, mdi, d, j) = (p.advert_interval, p.master_down_interval, p.delay, p.jitter);
    let silence = match p.echo {
        Some(echo) => mdi.max(echo.interval + echo.timeout),
        None => mdi,
    };
    let gone = silence + d + j;
    let period = p.echo.map_or(i, |echo| i.min(echo.interval));
    let held = match p.echo {
        Some(echo) => mdi
            .saturating_sub(period)
            .max(echo.timeout.saturating_sub(echo.interval)),
        None => mdi.saturating_sub(period),
    };
    match fault {
        Fault::MasterGone => Budget {
            tolerated: Duration::ZERO,
            detected_within: Some(gone),
        },
        Fault::LinkStall => Budget {
            tolerated: held.saturating_sub(d + 3 * j),
            detected_within: Some(gone),
        },
        Fault::Freeze => Budget {
            tolerated: match p.echo {
                Some(echo) if echo.timeout > d + j + FREEZE_RELEASE => Duration::MAX,
                _ => held.saturating_sub(d + 3 * j),
            },
            detected_within: None,
        },
        Fault::LinkCut => Budget {
            tolerated: held.saturating_sub(period + 2 * d + 5 * j),
            detected_within: Some(gone),
        },
        Fault::MasterAgentStall => {
            let adverts = mdi.saturating_sub(i + j);
            let (tolerated, detected_within) = match p.echo {
                Some(echo) => (
                    adverts.max(
                        (p.deadman_bound + mdi.max(echo.timeout))
                            .saturating_sub(p.heartbeat_every + echo.interval + 2 * j),
                    ),
                    gone + p.deadman_bound,
                ),
                None => (adverts, gone),
            };
            Budget {
                tolerated,
                detected_within: Some(detected_within),
            }
        }
        Fault::BackupAgentStall => Budget {
            tolerated: Duration::MAX,
            detected_within: None,
        },
    }
}
