//! Tests of the inputs only the daemon gives: XDP liveness signals and reconfiguration.

use std::time::{Duration, UNIX_EPOCH};

use super::super::*;
use crate::vrrp::test_support::{addr, v3_config, wire};

const MS: Duration = Duration::from_millis(1);
/// The master's Ethernet address, where echo probes go.
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fn at(micros: u64) -> Instant {
    Instant::from_micros(micros)
}

fn drain(r: &mut Router) -> Vec<Action> {
    std::iter::from_fn(|| r.poll_action()).collect()
}

/// A backup (router 2, priority 100, 10 ms adverts) following router 1 (priority 200), whose
/// advert it took at t = 0.
fn following_master() -> Router {
    let mut r = Router::new(v3_config(2, 100, 10 * MS)).unwrap();
    r.handle_startup(at(0));
    let peer = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(200), addr(1));
    let advert = r.validate(&meta, &bytes, UNIX_EPOCH).unwrap();
    r.handle_advert(at(0), &advert);
    drain(&mut r);
    r
}

#[test]
fn master_seen_restarts_master_down_timer_from_the_driver_stamp() {
    let mut r = following_master();
    let mdi = r.master_down_interval().as_micros() as u64;
    assert_eq!(r.poll_timeout(), Some(at(mdi)));
    assert!(r.handle_master_seen(at(5_000), addr(1), 200, MAC));
    assert_eq!(r.poll_timeout(), Some(at(5_000 + mdi)));
    // An older stamp never pulls the deadline back.
    r.handle_master_seen(at(4_000), addr(1), 200, MAC);
    assert_eq!(r.poll_timeout(), Some(at(5_000 + mdi)));
}

#[test]
fn master_seen_ignores_strangers_resignations_and_lower_priorities() {
    let mut r = following_master();
    let deadline = r.poll_timeout();
    assert!(!r.handle_master_seen(at(5_000), addr(3), 250, MAC));
    assert!(!r.handle_master_seen(at(5_000), addr(1), 0, MAC));
    assert!(!r.handle_master_seen(at(5_000), addr(1), 50, MAC));
    assert_eq!(
        r.poll_timeout(),
        deadline,
        "only the validated advert may do these"
    );
    assert_eq!(drain(&mut r), vec![]);
}

#[test]
fn reconfigure_keeps_a_master_master_and_applies_the_new_priority() {
    let mut r = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    r.handle_startup(at(0));
    let mdi = r.master_down_interval().as_micros() as u64;
    r.handle_timeout(at(mdi));
    assert_eq!(r.state(), State::Master);
    drain(&mut r);

    let mut config = v3_config(1, 180, 20 * MS);
    config
        .virtual_addresses
        .push("192.0.2.101".parse().unwrap());
    r.reconfigure(at(mdi + 1), config).unwrap();

    assert_eq!(r.state(), State::Master);
    assert_eq!(r.effective_priority(), 180);
    assert_eq!(drain(&mut r), vec![], "no transition, no VIP churn");
    assert_eq!(r.advert(180).addresses().len(), 2);
}

#[test]
fn reconfigure_refuses_an_invalid_configuration_and_keeps_the_old_one() {
    let mut r = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    let mut bad = v3_config(1, 200, 10 * MS);
    bad.vrid = 0;
    assert!(r.reconfigure(at(0), bad).is_err());
    assert_eq!(r.config().vrid, 1);
}

#[test]
fn master_alive_restarts_the_timer_for_an_accepted_master_only() {
    let mut r = following_master();
    let mdi = r.master_down_interval().as_micros() as u64;
    assert!(r.handle_echo(at(7_000)));
    assert_eq!(r.poll_timeout(), Some(at(7_000 + mdi)));

    // A backup that outranks the master must still preempt: echoes do not hold it back.
    let mut high = Router::new(v3_config(2, 250, 10 * MS)).unwrap();
    high.handle_startup(at(0));
    let peer = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(200), addr(1));
    let advert = high.validate(&meta, &bytes, UNIX_EPOCH).unwrap();
    high.handle_advert(at(0), &advert);
    let deadline = high.poll_timeout();
    assert!(!high.handle_echo(at(5_000)));
    assert_eq!(high.poll_timeout(), deadline);
}

/// `following_master` with the echo on (10 ms probes, 20 ms timeout), knowing the master's MAC
/// from its driver-stamped advert at t = 0, and its first probe sent at t = 0.
fn probing_backup() -> Router {
    let mut r = following_master();
    r.set_echo(true);
    assert!(r.handle_master_seen(at(0), addr(1), 200, MAC));
    assert_eq!(r.poll_timeout(), Some(at(0)), "a probe is due at once");
    r.handle_timeout(at(0));
    assert_eq!(
        drain(&mut r),
        vec![Action::SendProbe {
            master_mac: MAC,
            seq: 1
        }]
    );
    assert_eq!(r.poll_timeout(), Some(at(10_000)), "the next probe");
    r
}

#[test]
fn an_echo_keeps_the_master_and_a_late_backup_probes_and_waits() {
    let mut r = probing_backup();
    assert!(r.handle_echo(at(100)));
    // The backup sleeps far past Master_Down_Interval: the master had no chance to answer.
    r.handle_timeout(at(100_000));
    assert_eq!(r.state(), State::Backup);
    assert_eq!(
        drain(&mut r),
        vec![Action::SendProbe {
            master_mac: MAC,
            seq: 2
        }]
    );
    assert_eq!(r.poll_timeout(), Some(at(110_000)));
    // It answers: alive after all.
    assert!(r.handle_echo(at(100_050)));
    let mdi = r.master_down_interval().as_micros() as u64;
    r.handle_timeout(at(110_000));
    drain(&mut r);
    assert_eq!(r.poll_timeout(), Some(at(120_000)));
    // Silence from here: down once Master_Down_Interval has passed since the echo and a
    // probe has gone unanswered for the timeout.
    let mut now = at(120_000);
    while r.state() == State::Backup {
        now = r.poll_timeout().unwrap();
        r.handle_timeout(now);
    }
    assert_eq!(now, at((100_050 + mdi).max(110_000 + 20_000)));
}

#[test]
fn an_unanswered_probe_holds_master_down_until_its_timeout() {
    let mut r = probing_backup();
    let mdi = r.master_down_interval().as_micros() as u64;
    // Only adverts: Master_Down_Timer runs from the last, the probe from t = 0 stays unanswered.
    assert!(r.handle_master_seen(at(30_000), addr(1), 200, MAC));
    r.handle_timeout(at(30_000));
    drain(&mut r);
    let mut now = at(30_000);
    while r.state() == State::Backup {
        now = r.poll_timeout().unwrap();
        r.handle_timeout(now);
    }
    assert_eq!(now, at(30_000 + mdi), "the echo's verdict came long before");
}

#[test]
fn a_resigned_master_is_not_waited_for() {
    let mut r = probing_backup();
    let peer = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(0), addr(1));
    let advert = r.validate(&meta, &bytes, UNIX_EPOCH).unwrap();
    r.handle_advert(at(1_000), &advert);
    // Its kernel still echoes, and the probe is not yet old: Skew_Time decides alone.
    r.handle_echo(at(1_100));
    let skew = r.skew_time().as_micros() as u64;
    assert_eq!(r.poll_timeout(), Some(at(1_000 + skew)));
    r.handle_timeout(at(1_000 + skew));
    assert_eq!(r.state(), State::Master);
}

#[test]
fn the_echo_never_holds_back_a_preemption() {
    let mut high = Router::new(v3_config(2, 250, 10 * MS)).unwrap();
    high.set_echo(true);
    high.handle_startup(at(0));
    let peer = Router::new(v3_config(1, 200, 10 * MS)).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(200), addr(1));
    let advert = high.validate(&meta, &bytes, UNIX_EPOCH).unwrap();
    high.handle_advert(at(0), &advert);
    let deadline = high.poll_timeout().unwrap();
    assert!(!high.handle_master_seen(at(1_000), addr(1), 200, MAC));
    assert!(!high.handle_echo(at(2_000)));
    assert_eq!(high.poll_timeout(), Some(deadline), "nobody to probe");
    high.handle_timeout(deadline);
    assert_eq!(high.state(), State::Master);
}

#[test]
fn leaving_backup_stops_the_probes() {
    let mut r = probing_backup();
    r.set_fault(at(1_000), true);
    drain(&mut r);
    assert_eq!(r.poll_timeout(), None);
    r.set_fault(at(2_000), false);
    drain(&mut r);
    // Back in Backup, but nobody to probe until the master is seen again.
    r.handle_timeout(r.poll_timeout().unwrap());
    assert!(!drain(&mut r)
        .iter()
        .any(|a| matches!(a, Action::SendProbe { .. })));
}
