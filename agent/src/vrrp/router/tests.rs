//! State machine tests: one router driven by hand, fed real encoded adverts.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::vrrp::test_support::{addr, v3_config, wire, VIP};
use crate::vrrp::wire::V3Ipv4Checksum;

const SEC: Duration = Duration::from_secs(1);

fn at(micros: u64) -> Instant {
    Instant::from_micros(micros)
}

fn started(n: u8, priority: u8) -> Router {
    let mut r = Router::new(v3_config(n, priority, SEC)).unwrap();
    r.handle_startup(at(0));
    drain(&mut r);
    r
}

fn drain(r: &mut Router) -> Vec<Action> {
    std::iter::from_fn(|| r.poll_action()).collect()
}

/// An advert from router `n` with `priority` and `interval`, validated by `r`.
fn advert_from(r: &mut Router, n: u8, priority: u8, interval: Duration) -> ValidAdvert {
    let peer = Router::new(v3_config(n, priority.max(1), interval)).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(priority), addr(n));
    r.validate(&meta, &bytes, UNIX_EPOCH)
        .expect("peer advert is valid")
}

fn became_master(from: State, reason: TransitionReason) -> Vec<Action> {
    vec![
        Action::AddVips(vec![VIP]),
        Action::AnnounceVips(vec![VIP]),
        Action::SendAdvert { priority: 100 },
        Action::StateChanged {
            from,
            to: State::Master,
            reason,
        },
    ]
}

#[test]
fn startup_goes_backup_then_master_after_master_down_interval() {
    let mut r = Router::new(v3_config(1, 100, SEC)).unwrap();
    assert_eq!(r.state(), State::Initialize);
    assert_eq!(r.poll_timeout(), None);
    r.handle_startup(at(0));
    assert_eq!(
        drain(&mut r),
        vec![Action::StateChanged {
            from: State::Initialize,
            to: State::Backup,
            reason: TransitionReason::Startup
        }]
    );
    // 3 s + (156/256) s
    let mdi = Duration::from_micros(3_609_375);
    assert_eq!(r.master_down_interval(), mdi);
    assert_eq!(r.poll_timeout(), Some(at(3_609_375)));
    r.handle_timeout(at(3_609_374));
    assert_eq!(r.state(), State::Backup);
    r.handle_timeout(at(3_609_375));
    assert_eq!(
        drain(&mut r),
        became_master(State::Backup, TransitionReason::MasterDown)
    );
    assert_eq!(r.current_master(), Some(addr(1)));
    // Then an advert every interval.
    assert_eq!(r.poll_timeout(), Some(at(4_609_375)));
    r.handle_timeout(at(4_609_375));
    assert_eq!(drain(&mut r), vec![Action::SendAdvert { priority: 100 }]);
    assert_eq!(r.stats().adverts_sent, 2);
}

#[test]
fn owner_starts_as_master() {
    let mut r = Router::new(v3_config(1, 255, SEC)).unwrap();
    r.handle_startup(at(5));
    let actions = drain(&mut r);
    assert_eq!(actions[2], Action::SendAdvert { priority: 255 });
    assert_eq!(
        actions[3],
        Action::StateChanged {
            from: State::Initialize,
            to: State::Master,
            reason: TransitionReason::AddressOwner
        }
    );
    assert_eq!(r.poll_timeout(), Some(at(1_000_005)));
    // Others' adverts are ignored by the owner (RFC 9568 section 7.1), and counted.
    let meta_bytes = {
        let peer = Router::new(v3_config(2, 254, SEC)).unwrap();
        wire(peer.config(), &peer.advert(254), addr(2))
    };
    assert_eq!(
        r.validate(&meta_bytes.0, &meta_bytes.1, UNIX_EPOCH),
        Err(DropReason::LocalRouterIsOwner)
    );
    assert_eq!(r.drop_counters().get(DropReason::LocalRouterIsOwner), 1);
    // The owner's priority is not adjusted by checks.
    r.set_priority(at(6), 10);
    assert_eq!(r.effective_priority(), 255);
}

#[test]
fn backup_restarts_master_down_from_the_adverts_time() {
    let mut r = started(1, 100);
    let a = advert_from(&mut r, 2, 200, SEC);
    r.handle_timeout(at(1_000_000));
    // Seen at 0.9 s (driver timestamp), handled at 1 s.
    r.handle_advert(at(900_000), &a);
    assert_eq!(r.current_master(), Some(addr(2)));
    assert_eq!(r.poll_timeout(), Some(at(900_000 + 3_609_375)));
    // A reordered, older advert does not pull the deadline earlier.
    r.handle_advert(at(800_000), &a);
    assert_eq!(r.poll_timeout(), Some(at(900_000 + 3_609_375)));
    // An equal priority is accepted too (RFC 9568 (420): greater than or equal).
    let equal = advert_from(&mut r, 3, 100, SEC);
    r.handle_advert(at(2_000_000), &equal);
    assert_eq!(r.current_master(), Some(addr(3)));
    assert_eq!(r.poll_timeout(), Some(at(2_000_000 + 3_609_375)));
    assert!(drain(&mut r).is_empty());
}

#[test]
fn backup_with_preempt_discards_a_lower_master_and_takes_over() {
    let mut r = started(1, 100);
    let low = advert_from(&mut r, 2, 50, SEC);
    r.handle_advert(at(1_000_000), &low);
    r.handle_advert(at(2_000_000), &low);
    assert_eq!(r.poll_timeout(), Some(at(3_609_375)));
    r.handle_timeout(at(3_609_375));
    assert_eq!(r.state(), State::Master);
}

#[test]
fn nopreempt_keeps_a_lower_master() {
    let mut c = v3_config(1, 100, SEC);
    c.preempt = Preempt::Never;
    let mut r = Router::new(c).unwrap();
    r.handle_startup(at(0));
    let low = advert_from(&mut r, 2, 50, SEC);
    for t in 1..20u64 {
        r.handle_advert(at(t * 1_000_000), &low);
        r.handle_timeout(at(t * 1_000_000));
    }
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.current_master(), Some(addr(2)));
}

#[test]
fn preempt_delay_waits_then_preempts() {
    let mut c = v3_config(1, 100, SEC);
    c.preempt = Preempt::After(Duration::from_secs(5));
    let mut r = Router::new(c).unwrap();
    r.handle_startup(at(0));
    let low = advert_from(&mut r, 2, 50, SEC);
    // Adverts every second from t=1 s: accepted until t=6 s, discarded from then on.
    let mut t = 1_000_000;
    while r.state() == State::Backup && t < 20_000_000 {
        r.handle_advert(at(t), &low);
        let deadline = r.poll_timeout().unwrap();
        let next = t + 1_000_000;
        if deadline.as_micros() < next {
            r.handle_timeout(deadline);
        }
        t = next;
    }
    assert_eq!(r.state(), State::Master);
    // Last accepted advert at 5 s, so Master_Down at 5 s + 3.609375 s.
    let last = drain(&mut r).pop().unwrap();
    assert!(matches!(
        last,
        Action::StateChanged {
            reason: TransitionReason::MasterDown,
            ..
        }
    ));
    assert_eq!(r.stats().became_master, 1);
    assert!(t >= 9_000_000);
}

#[test]
fn priority_zero_sets_master_down_to_skew_time() {
    let mut r = started(1, 100);
    let master = advert_from(&mut r, 2, 200, SEC);
    r.handle_advert(at(1_000_000), &master);
    let resign = advert_from(&mut r, 2, 0, SEC);
    r.handle_advert(at(1_500_000), &resign);
    assert_eq!(r.stats().priority_zero_received, 1);
    // Skew_Time = 156/256 s.
    assert_eq!(r.poll_timeout(), Some(at(1_500_000 + 609_375)));
}

#[test]
fn master_yields_to_higher_priority_and_to_equal_priority_from_higher_address() {
    for (peer, priority, yields) in [
        (2, 101, true),
        (2, 100, true),
        (0, 100, false),
        (2, 99, false),
    ] {
        let mut r = Router::new(v3_config(1, 100, SEC)).unwrap();
        r.handle_startup(at(0));
        r.handle_timeout(at(3_609_375));
        drain(&mut r);
        // Router 0 has the lower address 192.0.2.0.
        let a = advert_from(&mut r, peer, priority, SEC);
        r.handle_advert(at(4_000_000), &a);
        if yields {
            assert_eq!(
                drain(&mut r),
                vec![
                    Action::RemoveVips(vec![VIP]),
                    Action::StateChanged {
                        from: State::Master,
                        to: State::Backup,
                        reason: TransitionReason::PreferredMasterSeen
                    }
                ]
            );
            assert_eq!(r.current_master(), Some(addr(peer)));
            let mdi = timers::master_down_interval(Version::V3, 100, SEC);
            assert_eq!(r.poll_timeout(), Some(at(4_000_000).saturating_add(mdi)));
        } else {
            assert_eq!(r.state(), State::Master, "{peer} {priority}");
            assert_eq!(drain(&mut r), lower_claim_answered(), "{peer} {priority}");
        }
    }
}

#[test]
fn a_master_standing_down_on_a_late_advert_waits_a_full_interval_from_the_newest_signal() {
    let mut r = Router::new(v3_config(1, 100, SEC)).unwrap();
    r.handle_startup(at(0));
    r.handle_timeout(at(3_609_375));
    drain(&mut r);
    // The preferred master's ring record, stamped at 5 s, did not count while we were master;
    // its full advert, stamped at 1 s, is read after it.
    assert!(!r.handle_master_seen(at(5_000_000), addr(2), 101, [2, 0, 0, 0, 0, 2]));
    let a = advert_from(&mut r, 2, 101, SEC);
    r.handle_advert(at(1_000_000), &a);
    assert_eq!(r.state(), State::Backup);
    let mdi = timers::master_down_interval(Version::V3, 100, SEC);
    assert_eq!(r.poll_timeout(), Some(at(5_000_000).saturating_add(mdi)));
}

/// What a master does when a lower-priority router claims mastership.
fn lower_claim_answered() -> Vec<Action> {
    vec![
        Action::SendAdvert { priority: 100 },
        Action::ReannounceVips(vec![VIP]),
    ]
}

#[test]
fn a_master_answers_each_lower_priority_claim_once() {
    let mut r = started(1, 100);
    r.handle_timeout(at(3_609_375));
    drain(&mut r);
    let lower = advert_from(&mut r, 2, 90, SEC);
    // The claim starts: our advert at once (the adver timer restarts), the VIPs again.
    r.handle_advert(at(4_000_000), &lower);
    assert_eq!(drain(&mut r), lower_claim_answered());
    assert_eq!(r.poll_timeout(), Some(at(5_000_000)));
    // More adverts of the same claim change nothing.
    r.handle_advert(at(4_500_000), &lower);
    assert!(drain(&mut r).is_empty());
    // Another claimant is a claim of its own.
    let other = advert_from(&mut r, 0, 90, SEC);
    r.handle_advert(at(4_600_000), &other);
    assert_eq!(drain(&mut r), lower_claim_answered());
    assert_eq!(r.stats().lower_priority_claims, 2);
    // Router 0 silent for longer than Master_Down_Interval: its next advert is a new claim.
    let mdi = r.master_down_interval();
    let later = at(4_600_000).saturating_add(mdi).saturating_add(SEC / 100);
    r.handle_advert(later, &other);
    let answered: Vec<_> = drain(&mut r)
        .into_iter()
        .filter(|a| matches!(a, Action::ReannounceVips(_)))
        .collect();
    assert_eq!(answered, vec![Action::ReannounceVips(vec![VIP])]);
    assert_eq!(r.stats().lower_priority_claims, 3);
}

#[test]
fn master_answers_a_resignation_with_an_advert() {
    let mut r = started(1, 100);
    r.handle_timeout(at(3_609_375));
    drain(&mut r);
    let resign = advert_from(&mut r, 2, 0, SEC);
    r.handle_advert(at(3_700_000), &resign);
    assert_eq!(drain(&mut r), vec![Action::SendAdvert { priority: 100 }]);
    assert_eq!(r.poll_timeout(), Some(at(4_700_000)));
}

#[test]
fn shutdown_of_a_master_resigns() {
    let mut r = started(1, 100);
    r.handle_timeout(at(3_609_375));
    drain(&mut r);
    r.handle_shutdown(at(4_000_000));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips(vec![VIP]),
            Action::StateChanged {
                from: State::Master,
                to: State::Initialize,
                reason: TransitionReason::Shutdown
            }
        ]
    );
    assert_eq!(r.poll_timeout(), None);
    assert_eq!(r.stats().priority_zero_sent, 1);
    // A later startup works again.
    r.handle_startup(at(5_000_000));
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn fault_removes_everything_and_clearing_it_starts_over() {
    let mut r = started(1, 100);
    r.handle_timeout(at(3_609_375));
    drain(&mut r);
    r.set_fault(at(4_000_000), true);
    assert_eq!(
        drain(&mut r),
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips(vec![VIP]),
            Action::StateChanged {
                from: State::Master,
                to: State::Fault,
                reason: TransitionReason::FaultRaised
            }
        ]
    );
    assert_eq!(r.poll_timeout(), None);
    // Adverts and timeouts do nothing in Fault.
    let a = advert_from(&mut r, 2, 200, SEC);
    r.handle_advert(at(4_100_000), &a);
    r.handle_timeout(at(100_000_000));
    assert_eq!(r.state(), State::Fault);
    assert!(drain(&mut r).is_empty());
    r.set_fault(at(100_000_000), false);
    assert_eq!(r.state(), State::Backup);
    assert_eq!(
        drain(&mut r),
        vec![Action::StateChanged {
            from: State::Fault,
            to: State::Backup,
            reason: TransitionReason::FaultCleared
        }]
    );
    assert_eq!(r.poll_timeout(), Some(at(100_000_000 + 3_609_375)));
}

#[test]
fn fault_before_startup_holds_the_router_in_fault() {
    let mut r = Router::new(v3_config(1, 255, SEC)).unwrap();
    r.set_fault(at(0), true);
    assert_eq!(r.state(), State::Initialize);
    r.handle_startup(at(1));
    assert_eq!(r.state(), State::Fault);
    r.set_fault(at(2), false);
    // The owner goes straight back to Master.
    assert_eq!(r.state(), State::Master);
    let last = drain(&mut r).pop().unwrap();
    assert_eq!(
        last,
        Action::StateChanged {
            from: State::Fault,
            to: State::Master,
            reason: TransitionReason::FaultCleared
        }
    );
}

#[test]
fn priority_is_clamped_and_changes_skew() {
    let mut r = started(1, 100);
    r.set_priority(at(1), 0);
    assert_eq!(r.effective_priority(), 1);
    r.set_priority(at(1), 255);
    assert_eq!(r.effective_priority(), 254);
    assert_eq!(r.skew_time(), Duration::from_nanos(7_812_500));
}

#[test]
fn v3_learns_the_masters_interval_with_a_floor() {
    let mut r = started(1, 100);
    let slow = advert_from(&mut r, 2, 200, Duration::from_secs(2));
    r.handle_advert(at(0), &slow);
    assert_eq!(r.master_adver_interval(), Duration::from_secs(2));
    let fast = advert_from(&mut r, 2, 200, Duration::from_millis(10));
    r.handle_advert(at(1), &fast);
    assert_eq!(r.master_adver_interval(), Duration::from_millis(10));
    // A fast-mode advert, read by a standard router: centiseconds, 1000x.
    let fast_mode = advert_from(&mut r, 2, 200, Duration::from_micros(100));
    r.handle_advert(at(2), &fast_mode);
    assert_eq!(r.master_adver_interval(), Duration::from_millis(100));

    // A fast-mode router reads fast units, floored at its own interval.
    let mut f = Router::new(v3_config(1, 100, Duration::from_micros(200))).unwrap();
    f.handle_startup(at(0));
    let a = advert_from(&mut f, 2, 200, Duration::from_micros(100));
    f.handle_advert(at(1), &a);
    assert_eq!(f.master_adver_interval(), Duration::from_micros(200));
    let a = advert_from(&mut f, 2, 200, Duration::from_micros(300));
    f.handle_advert(at(2), &a);
    assert_eq!(f.master_adver_interval(), Duration::from_micros(300));
    // 3 * 300 us + 156/256 * 300 us = 1082.8125 us, in whole microseconds.
    assert_eq!(f.poll_timeout(), Some(at(2 + 1_082)));
}

#[test]
fn peers_are_remembered_with_their_checksum_variant() {
    let mut r = started(1, 100);
    let mut peer_config = v3_config(2, 200, SEC);
    peer_config.v3_ipv4_checksum = V3Ipv4Checksum::MessageOnly;
    let peer = Router::new(peer_config).unwrap();
    let (meta, bytes) = wire(peer.config(), &peer.advert(200), addr(2));
    let a = r.validate(&meta, &bytes, UNIX_EPOCH).unwrap();
    r.handle_advert(at(7), &a);
    let b = advert_from(&mut r, 3, 150, SEC);
    r.handle_advert(at(8), &b);
    let peers = r.peers();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0].address, addr(2));
    assert_eq!(peers[0].checksum, ChecksumVariant::MessageOnly);
    assert_eq!(peers[1].checksum, ChecksumVariant::Ipv4PseudoHeader);
    assert_eq!(peers[1].last_seen, at(8));
    // Bounded.
    for n in 10..(10 + MAX_PEERS as u8 + 5) {
        let a = advert_from(&mut r, n, 150, SEC);
        r.handle_advert(at(100 + u64::from(n)), &a);
    }
    assert_eq!(r.peers().len(), MAX_PEERS);
}

#[test]
fn drops_are_counted_and_change_nothing() {
    let mut r = started(1, 100);
    let before = r.poll_timeout();
    let peer = Router::new(v3_config(2, 200, SEC)).unwrap();
    let (mut meta, bytes) = wire(peer.config(), &peer.advert(200), addr(2));
    meta.ttl = 64;
    assert_eq!(
        r.validate(&meta, &bytes, UNIX_EPOCH),
        Err(DropReason::BadTtl)
    );
    assert_eq!(
        r.validate(&meta, &bytes[..5], UNIX_EPOCH),
        Err(DropReason::BadTtl)
    );
    meta.ttl = 255;
    assert_eq!(
        r.validate(&meta, &bytes[..5], UNIX_EPOCH),
        Err(DropReason::Truncated)
    );
    assert_eq!(r.drop_counters().get(DropReason::BadTtl), 2);
    assert_eq!(r.drop_counters().total(), 3);
    assert_eq!(r.poll_timeout(), before);
    assert_eq!(r.state(), State::Backup);
    assert!(drain(&mut r).is_empty());
}

#[test]
fn clock_going_backwards_does_not_fire_or_panic() {
    let mut r = started(1, 100);
    r.handle_timeout(at(3_609_375));
    assert_eq!(r.state(), State::Master);
    drain(&mut r);
    // An older `now` neither fires the advert timer nor re-arms it earlier.
    r.handle_timeout(at(1));
    assert!(drain(&mut r).is_empty());
    assert_eq!(r.poll_timeout(), Some(at(4_609_375)));
    // An advert older than everything, at the master: handled against the router's clock.
    let resign = advert_from(&mut r, 2, 0, SEC);
    r.handle_advert(at(0), &resign);
    assert_eq!(r.poll_timeout(), Some(at(4_609_375)));
}

#[test]
fn a_running_master_down_timer_follows_a_priority_change() {
    // Found by the property test: a backup raised from 1 to 14 kept the Skew_Time of
    // priority 1 and took over later than Master_Down_Interval at its new priority.
    let mut r = started(1, 1);
    let a = advert_from(&mut r, 2, 200, SEC);
    r.handle_advert(at(1_000_000), &a);
    assert_eq!(
        r.poll_timeout(),
        Some(at(1_000_000).saturating_add(timers::master_down_interval(Version::V3, 1, SEC)))
    );
    r.set_priority(at(1_500_000), 14);
    assert_eq!(
        r.poll_timeout(),
        Some(at(1_000_000).saturating_add(timers::master_down_interval(Version::V3, 14, SEC)))
    );
    // After a resignation it is Skew_Time at the current priority.
    let resign = advert_from(&mut r, 2, 0, SEC);
    r.handle_advert(at(2_000_000), &resign);
    r.set_priority(at(2_000_001), 200);
    assert_eq!(
        r.poll_timeout(),
        Some(at(2_000_000).saturating_add(timers::skew_time(Version::V3, 200, SEC)))
    );
}

mod auth_ah {
    use super::*;
    use crate::vrrp::wire::ah::{AhKey, AhPacket};
    use crate::vrrp::wire::{V2Auth, VRRP_GROUP_V4};

    fn ah_config(n: u8, priority: u8, key: &[u8; 8]) -> RouterConfig {
        let mut c = v3_config(n, priority, SEC);
        c.version = Version::V2;
        c.v2_auth = V2Auth::IpsecAh;
        c.ah_key = Some(AhKey::new(*key));
        c
    }

    /// The next advert of `r` as the IPv4 packet it sends to the group.
    fn sealed(r: &mut Router, priority: u8) -> Vec<u8> {
        let message = r
            .advert(priority)
            .emit_to_vec(
                r.config().primary_address,
                IpAddr::V4(VRRP_GROUP_V4),
                V3Ipv4Checksum::default(),
            )
            .unwrap();
        let mut packets = vec![Vec::new()];
        assert!(r.seal_ah_advert(&message, &[IpAddr::V4(VRRP_GROUP_V4)], &mut packets));
        packets.pop().unwrap()
    }

    fn sequence(packet: &[u8]) -> u32 {
        AhPacket::split(packet).unwrap().ah.sequence
    }

    fn meta(n: u8) -> RxMeta {
        RxMeta {
            src: addr(n),
            dst: IpAddr::V4(VRRP_GROUP_V4),
            ttl: 255,
        }
    }

    fn master(n: u8, priority: u8) -> Router {
        let mut r = Router::new(ah_config(n, priority, b"secret12")).unwrap();
        r.handle_startup(at(0));
        r.handle_timeout(at(10_000_000));
        assert_eq!(r.state(), State::Master);
        drain(&mut r);
        r
    }

    #[test]
    fn a_master_hearing_a_lower_router_continues_above_its_numbers() {
        let mut ours = master(2, 200);
        let mut lower = Router::new(ah_config(1, 100, b"secret12")).unwrap();
        for _ in 0..40 {
            sealed(&mut lower, 100);
        }
        let claim = sealed(&mut lower, 100);
        assert_eq!(sequence(&claim), 41);
        ours.validate(&meta(1), &claim, UNIX_EPOCH).unwrap();
        assert_eq!(sequence(&sealed(&mut ours, 200)), 43);
    }

    #[test]
    fn a_backup_continues_above_the_master_it_heard() {
        let mut master = master(2, 200);
        let mut backup = Router::new(ah_config(1, 100, b"secret12")).unwrap();
        backup.handle_startup(at(0));
        for _ in 0..5 {
            let advert = sealed(&mut master, 200);
            backup.validate(&meta(2), &advert, UNIX_EPOCH).unwrap();
        }
        assert_eq!(sequence(&sealed(&mut backup, 100)), 6);
    }

    #[test]
    fn forged_and_replayed_adverts_are_counted_and_move_nothing() {
        let mut sender = master(2, 200);
        let mut backup = Router::new(ah_config(1, 100, b"secret12")).unwrap();
        backup.handle_startup(at(0));
        drain(&mut backup);
        let first = sealed(&mut sender, 200);
        let advert = backup.validate(&meta(2), &first, UNIX_EPOCH).unwrap();
        backup.handle_advert(at(1), &advert);
        assert_eq!(
            backup.validate(&meta(2), &first, UNIX_EPOCH),
            Err(DropReason::AhReplay)
        );
        let mut forger = master(2, 255);
        forger.ah.as_mut().unwrap().reconfigure(
            AhKey::new(*b"guessed!"),
            crate::vrrp::wire::ah::Delivery::Multicast,
        );
        for _ in 0..5 {
            sealed(&mut forger, 255);
        }
        assert_eq!(
            backup.validate(&meta(2), &sealed(&mut forger, 255), UNIX_EPOCH),
            Err(DropReason::AhBadIcv)
        );
        assert_eq!(
            backup.validate(&meta(2), &first[..40], UNIX_EPOCH),
            Err(DropReason::AhMalformed)
        );
        let drops = backup.drop_counters();
        assert_eq!(
            (
                drops.get(DropReason::AhReplay),
                drops.get(DropReason::AhBadIcv),
                drops.get(DropReason::AhMalformed)
            ),
            (1, 1, 1)
        );
        // The genuine master's next advert is still accepted: nothing forged moved the counter.
        assert!(backup
            .validate(&meta(2), &sealed(&mut sender, 200), UNIX_EPOCH)
            .is_ok());
    }
}

/// The inputs only the daemon gives: XDP liveness signals and reconfiguration.
mod daemon_input;
