//! The effective-priority arithmetic: what the base priority of an instance becomes given the
//! state of everything it tracks (checks, scripts, interfaces, files), following keepalived.
//!
//! Sources (keepalived.conf(5), 2.2.7, and keepalived/vrrp/vrrp_track.c):
//! - Up/down objects (`track_script`, `track_interface`, built-in checks): "a positive weight
//!   means that \<rise\> successes will add \<weight\> to the priority ... a negative weight will
//!   be subtracted from the initial priority in case of \<fall\> failures"; weight 0 (the
//!   default) means "a failure implies a FAULT state".
//! - Tracked files: "If the weight configured against the track_file is 0, a non-zero value in
//!   the file will be treated as a failure status ... otherwise the value will be multiplied by
//!   the weight"; "if the result is less than -253 anything monitoring the script will
//!   transition to the fault state"; results above 253 count as 253 (`update_track_file_status`).
//! - "the effective priority will be limited to the range \[1,254\]", and "if an instance has
//!   priority 255 configured, the priority cannot be reduced by track_scripts ... and likewise
//!   track_scripts etc cannot increase the priority to 255".
//! - A weight-0 script that has not reported yet keeps the instance in INIT
//!   (`num_script_init` in `initialise_track_script_state`); a weighted one does not move the
//!   priority until it reports.
//!
//! keepalived's `reverse` keyword is not modelled: no caller asks for it yet.

pub use crate::vrrp::OWNER_PRIORITY;
const MIN_PRIORITY: i64 = 1;
const MAX_BACKUP_PRIORITY: i64 = 254;
/// A tracked file whose weighted value reaches this puts the instance in FAULT.
const FILE_FAULT_STATUS: i64 = -254;
const FILE_MAX_STATUS: i64 = 253;

/// The state of an up/down tracked object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackStatus {
    /// Not reported yet (a check before its first result, without `init_fail`).
    Init,
    Up,
    Down,
}

/// One tracked object's contribution, as the instance sees it (the weight is the instance's:
/// keepalived lets `track_script NAME weight W` override the script's default weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    /// A check, script or interface.
    Status { weight: i32, status: TrackStatus },
    /// A tracked file and the number last read from it.
    File { weight: i32, value: i64 },
}

/// What tracking makes of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effective {
    /// The priority to advertise and to elect with.
    Priority(u8),
    /// A weight-0 object failed (or a file's weighted value reached -254): the instance must
    /// be in FAULT.
    Fault,
    /// A weight-0 object has not reported yet: the instance waits in INIT, neither electing
    /// nor in FAULT (so no FAULT notification fires at start-up).
    Init,
}

/// keepalived's effective priority: `base` plus the positive weights of objects that are up
/// and the negative weights of objects that are down (plus weighted file values), clamped to
/// 1..=254; an address owner (255) keeps 255. FAULT wins over INIT, which wins over a priority.
pub fn effective_priority(base: u8, tracked: impl IntoIterator<Item = Tracked>) -> Effective {
    let mut total: i64 = 0;
    let mut waiting = false;
    for object in tracked {
        match object {
            Tracked::Status { weight: 0, status } => match status {
                TrackStatus::Down => return Effective::Fault,
                TrackStatus::Init => waiting = true,
                TrackStatus::Up => {}
            },
            Tracked::Status { weight, status } => match status {
                TrackStatus::Up if weight > 0 => total += i64::from(weight),
                TrackStatus::Down if weight < 0 => total += i64::from(weight),
                _ => {}
            },
            Tracked::File { weight: 0, value } => {
                if value != 0 {
                    return Effective::Fault;
                }
            }
            Tracked::File { weight, value } => {
                let status = value
                    .saturating_mul(i64::from(weight))
                    .clamp(FILE_FAULT_STATUS, FILE_MAX_STATUS);
                if status == FILE_FAULT_STATUS {
                    return Effective::Fault;
                }
                total += status;
            }
        }
    }
    if waiting {
        return Effective::Init;
    }
    if base == OWNER_PRIORITY {
        return Effective::Priority(OWNER_PRIORITY);
    }
    let priority = (i64::from(base) + total).clamp(MIN_PRIORITY, MAX_BACKUP_PRIORITY);
    // The clamp keeps it within 1..=254.
    Effective::Priority(u8::try_from(priority).unwrap_or(u8::MAX - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(weight: i32, status: TrackStatus) -> Tracked {
        Tracked::Status { weight, status }
    }

    fn file(weight: i32, value: i64) -> Tracked {
        Tracked::File { weight, value }
    }

    use TrackStatus::{Down, Init, Up};

    #[test]
    fn nothing_tracked_keeps_the_base() {
        assert_eq!(effective_priority(100, []), Effective::Priority(100));
    }

    /// keepalived.conf(5)'s sample instance: priority 100, `track_interface { eth1 weight 2
    /// (prio +2 if UP); eth2 weight -2 (prio -2 if DOWN); eth3 (fault if down) }` and
    /// `chk_sshd` with `weight -4` ("default prio: -4 if KO").
    #[test]
    fn keepalived_sample_instance() {
        let all_well = [status(2, Up), status(-2, Up), status(0, Up), status(-4, Up)];
        assert_eq!(effective_priority(100, all_well), Effective::Priority(102));

        let eth2_down = [
            status(2, Up),
            status(-2, Down),
            status(0, Up),
            status(-4, Up),
        ];
        assert_eq!(effective_priority(100, eth2_down), Effective::Priority(100));

        let eth1_down_sshd_ko = [
            status(2, Down),
            status(-2, Up),
            status(0, Up),
            status(-4, Down),
        ];
        assert_eq!(
            effective_priority(100, eth1_down_sshd_ko),
            Effective::Priority(96)
        );

        let eth3_down = [
            status(2, Up),
            status(-2, Up),
            status(0, Down),
            status(-4, Up),
        ];
        assert_eq!(effective_priority(100, eth3_down), Effective::Fault);
    }

    /// The kubeadm HA guide's `check_apiserver` with `weight -2`: a failing API server moves
    /// the master (101) below the backup (100).
    #[test]
    fn negative_weight_subtracts_only_while_failing() {
        assert_eq!(
            effective_priority(101, [status(-2, Up)]),
            Effective::Priority(101)
        );
        assert_eq!(
            effective_priority(101, [status(-2, Down)]),
            Effective::Priority(99)
        );
    }

    #[test]
    fn positive_weight_adds_only_while_succeeding() {
        assert_eq!(
            effective_priority(100, [status(20, Up)]),
            Effective::Priority(120)
        );
        assert_eq!(
            effective_priority(100, [status(20, Down)]),
            Effective::Priority(100)
        );
    }

    #[test]
    fn clamped_to_1_through_254() {
        assert_eq!(
            effective_priority(250, [status(10, Up)]),
            Effective::Priority(254),
            "tracking cannot raise an instance to owner priority"
        );
        assert_eq!(
            effective_priority(5, [status(-253, Down)]),
            Effective::Priority(1)
        );
    }

    #[test]
    fn address_owner_is_never_changed_by_weights() {
        assert_eq!(
            effective_priority(255, [status(-50, Down)]),
            Effective::Priority(255)
        );
        assert_eq!(
            effective_priority(255, [file(10, -3)]),
            Effective::Priority(255)
        );
        assert_eq!(
            effective_priority(255, [status(0, Down)]),
            Effective::Fault,
            "keepalived requires weight 0 on an owner's trackers, and weight 0 still faults"
        );
    }

    #[test]
    fn unreported_weight_zero_check_holds_init_and_fault_wins() {
        assert_eq!(effective_priority(100, [status(0, Init)]), Effective::Init);
        assert_eq!(
            effective_priority(100, [status(0, Init), status(0, Down)]),
            Effective::Fault
        );
        assert_eq!(
            effective_priority(100, [status(-10, Init), status(10, Init)]),
            Effective::Priority(100),
            "weighted checks move nothing before they report"
        );
    }

    /// track_file: "the value will be multiplied by the weight"; with weight 0 "a non-zero
    /// value in the file will be treated as a failure status, and a zero value ... OK".
    #[test]
    fn tracked_file_values() {
        assert_eq!(
            effective_priority(100, [file(1, 0)]),
            Effective::Priority(100)
        );
        assert_eq!(
            effective_priority(100, [file(1, 10)]),
            Effective::Priority(110)
        );
        assert_eq!(
            effective_priority(100, [file(-5, 4)]),
            Effective::Priority(80)
        );
        assert_eq!(
            effective_priority(100, [file(0, 0)]),
            Effective::Priority(100)
        );
        assert_eq!(effective_priority(100, [file(0, 7)]), Effective::Fault);
        assert_eq!(effective_priority(100, [file(0, -1)]), Effective::Fault);
    }

    /// "if the result is less than -253 anything monitoring [it] will transition to the fault
    /// state"; large positive results count as 253.
    #[test]
    fn tracked_file_fault_threshold_and_cap() {
        assert_eq!(
            effective_priority(254, [file(1, -253)]),
            Effective::Priority(1)
        );
        assert_eq!(effective_priority(254, [file(1, -254)]), Effective::Fault);
        assert_eq!(effective_priority(100, [file(254, -1)]), Effective::Fault);
        assert_eq!(
            effective_priority(1, [file(254, 254)]),
            Effective::Priority(254)
        );
        assert_eq!(
            effective_priority(100, [file(i32::MAX, i64::MAX)]),
            Effective::Priority(254)
        );
    }

    #[test]
    fn contributions_add_up() {
        let tracked = [status(5, Up), status(-3, Down), file(2, 4), status(7, Down)];
        assert_eq!(effective_priority(100, tracked), Effective::Priority(110));
    }
}
