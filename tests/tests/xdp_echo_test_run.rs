//! Golden frames for the liveness echo: a master reflects probes for the VRIDs it is master of
//! while its agent is alive; a backup records the echoes of its own probes, from the master it
//! follows only, and drops them.
//! A master also stops reflecting the moment the kernel reports its agent exited or stopped
//! (the agent watch), without waiting out the dead-man bound.
//! Frames are built here byte by byte, independently of the agent's probe builder.
//!
//! Under BPF_PROG_TEST_RUN the ingress interface is the loopback, ifindex 1.
use agent_common::counter;
use std::{
    fs,
    process::{Child, Command},
    thread,
    time::Duration,
};
use vipd::family::IpFamily;

use vipd::dataplane::xdp::{
    xdp_action::{XDP_DROP, XDP_PASS, XDP_TX},
    AdvertRing, FollowedMaster, VridPolicy, WatchedAgent, XdpMaps, XdpProgram, TEST_RUN_IFINDEX,
};
use vipd_tests::{clock::monotonic_ns, kernel_tests_enabled, vipd::wait_until};

const MASTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const BACKUP_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const ATTACKER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x66];

/// The backup follows the master at `MASTER_MAC` for VRID 51.
fn follow_master(maps: &mut XdpMaps) {
    let master = FollowedMaster {
        address: "192.0.2.1".parse().unwrap(),
        priority: 200,
        mac: Some(MASTER_MAC),
    };
    maps.set_vrid_following(
        TEST_RUN_IFINDEX,
        51,
        IpFamily::V4,
        VridPolicy::default(),
        Some(master),
    )
    .unwrap();
}

/// An echo frame: `kind` 1 (probe) or 2 (reply), VRID 51, IPv4, sequence 7, padded to 60 bytes.
fn echo(dst: [u8; 6], src: [u8; 6], kind: u8) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&[0x88, 0xb5]);
    frame.extend_from_slice(b"vipd");
    frame.extend_from_slice(&[kind, 51, 4, 0, 0, 0, 0, 7]);
    frame.resize(60, 0);
    frame
}

fn program() -> (XdpProgram, XdpMaps, AdvertRing) {
    let mut program = XdpProgram::load().expect("load");
    let mut maps = program.take_maps().expect("maps");
    let ring = program.take_adverts().expect("ring");
    maps.set_deadman_bound(Duration::from_secs(60)).unwrap();
    maps.heartbeat(monotonic_ns()).unwrap();
    (program, maps, ring)
}

#[test]
fn a_master_reflects_probes_only_while_master_and_alive() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut maps, _ring) = program();
    let probe = echo(MASTER_MAC, BACKUP_MAC, 1);

    let (verdict, _) = program.test_run(&probe).unwrap();
    assert_eq!(verdict, XDP_PASS, "not master of VRID 51: no reflection");

    maps.set_reflect(TEST_RUN_IFINDEX, 51, IpFamily::V4, true)
        .unwrap();
    let (verdict, out) = program.test_run(&probe).unwrap();
    assert_eq!(verdict, XDP_TX);
    assert_eq!(
        out,
        echo(BACKUP_MAC, MASTER_MAC, 2),
        "addresses swapped, kind reply"
    );
    assert_eq!(maps.counters().unwrap().get(counter::ECHO_REFLECTED), 1);

    // A hung agent's node stops echoing: its backups must be free to take over.
    maps.heartbeat(1).unwrap();
    let (verdict, _) = program.test_run(&probe).unwrap();
    assert_eq!(verdict, XDP_PASS);

    maps.heartbeat(monotonic_ns()).unwrap();
    maps.set_reflect(TEST_RUN_IFINDEX, 51, IpFamily::V4, false)
        .unwrap();
    let (verdict, _) = program.test_run(&probe).unwrap();
    assert_eq!(verdict, XDP_PASS, "left master: no reflection");
}

#[test]
fn a_backup_records_and_drops_the_echoes_of_the_master_it_follows() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut maps, mut ring) = program();
    let reply = echo(BACKUP_MAC, MASTER_MAC, 2);

    let (verdict, _) = program.test_run(&reply).unwrap();
    assert_eq!(verdict, XDP_PASS, "VRID not configured here");
    assert!(ring.try_next().is_none());

    maps.set_vrid(TEST_RUN_IFINDEX, 51, IpFamily::V4, VridPolicy::default())
        .unwrap();
    let (verdict, _) = program.test_run(&reply).unwrap();
    assert_eq!(
        verdict, XDP_DROP,
        "following no master: nobody's echo to record"
    );
    assert!(ring.try_next().is_none());

    follow_master(&mut maps);
    let (verdict, _) = program
        .test_run(&echo(BACKUP_MAC, ATTACKER_MAC, 2))
        .unwrap();
    assert_eq!(verdict, XDP_DROP, "a forged reply is dropped");
    assert!(ring.try_next().is_none(), "and not recorded");
    assert_eq!(maps.counters().unwrap().get(counter::ECHO_FOREIGN), 2);

    let before = monotonic_ns();
    let (verdict, _) = program.test_run(&reply).unwrap();
    assert_eq!(verdict, XDP_DROP);
    let record = ring.try_next().expect("an echo record");
    assert!(record.is_echo);
    assert_eq!((record.ifindex, record.vrid), (TEST_RUN_IFINDEX, 51));
    assert_eq!(record.src_mac, MASTER_MAC);
    assert!(record.ktime_ns >= before);
    assert_eq!(maps.counters().unwrap().get(counter::ECHO_RECORDED), 1);

    let mut wrong_magic = reply.clone();
    wrong_magic[14] = b'x';
    let (verdict, out) = program.test_run(&wrong_magic).unwrap();
    assert_eq!(
        (verdict, out),
        (XDP_PASS, wrong_magic),
        "someone else's frame"
    );
}

#[test]
fn every_truncation_of_an_echo_passes() {
    if !kernel_tests_enabled() {
        return;
    }
    let (mut program, mut maps, mut ring) = program();
    follow_master(&mut maps);
    maps.set_reflect(TEST_RUN_IFINDEX, 51, IpFamily::V4, true)
        .unwrap();
    for frame in [
        echo(MASTER_MAC, BACKUP_MAC, 1),
        echo(BACKUP_MAC, MASTER_MAC, 2),
    ] {
        // The echo header ends at byte 26.
        for len in 14..26 {
            let (verdict, out) = program.test_run(&frame[..len]).unwrap();
            assert_eq!(
                (verdict, out.as_slice()),
                (XDP_PASS, &frame[..len]),
                "length {len}"
            );
        }
    }
    assert!(ring.try_next().is_none());
}

/// A master of VRID 51 whose agent, for the program, is `agent`: a probe is reflected until the
/// kernel reports the agent gone.
fn master_watching(agent: WatchedAgent) -> (XdpProgram, XdpMaps) {
    let (mut program, mut maps, _ring) = program();
    maps.set_reflect(TEST_RUN_IFINDEX, 51, IpFamily::V4, true)
        .unwrap();
    maps.watch_agent(agent).unwrap();
    program.watch_agent().expect("attach the agent watch");
    (program, maps)
}

/// A stand-in agent process, killed when dropped.
struct StandIn(Child);

impl StandIn {
    fn start() -> Self {
        Self(
            Command::new("sleep")
                .arg("60")
                .spawn()
                .expect("start sleep"),
        )
    }

    fn watched(&self) -> WatchedAgent {
        WatchedAgent::process(self.0.id()).unwrap()
    }

    /// The process state letter of /proc/PID/stat ('S' sleeping, 'T' stopped, ...).
    fn state(&self) -> char {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap();
        let after_name = stat.rsplit_once(") ").expect("stat format").1;
        after_name.chars().next().unwrap()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(self.0.id() as i32, signal) }, 0);
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn reflects(program: &mut XdpProgram) -> bool {
    let (verdict, _) = program.test_run(&echo(MASTER_MAC, BACKUP_MAC, 1)).unwrap();
    verdict == XDP_TX
}

#[test]
fn a_killed_agents_node_stops_reflecting_at_once_and_for_good() {
    if !kernel_tests_enabled() {
        return;
    }
    let mut agent = StandIn::start();
    let (mut program, mut maps) = master_watching(agent.watched());
    assert!(reflects(&mut program), "alive, heartbeat fresh");

    agent.0.kill().unwrap();
    agent.0.wait().unwrap();
    // The heartbeat is fresh and the bound is a minute: only the kernel's word stops it.
    assert!(!reflects(&mut program), "the agent exited");
    assert_eq!(maps.counters().unwrap().get(counter::DEADMAN_SUPPRESSED), 1);
    maps.heartbeat(monotonic_ns()).unwrap();
    assert!(
        !reflects(&mut program),
        "a late heartbeat does not revive an exited agent"
    );
}

#[test]
fn a_stopped_agents_node_stops_reflecting_until_its_next_heartbeat() {
    if !kernel_tests_enabled() {
        return;
    }
    let agent = StandIn::start();
    let (mut program, mut maps) = master_watching(agent.watched());
    assert!(reflects(&mut program));

    agent.signal(libc::SIGSTOP);
    assert!(
        wait_until(Duration::from_secs(5), || agent.state() == 'T'),
        "the stand-in stops"
    );
    assert!(!reflects(&mut program), "SIGSTOP voids the heartbeat");

    agent.signal(libc::SIGCONT);
    assert!(!reflects(&mut program), "not until the agent says so");
    maps.heartbeat(monotonic_ns()).unwrap();
    assert!(reflects(&mut program), "the resumed agent's heartbeat");
}

#[test]
fn other_processes_and_the_agents_own_threads_ending_change_nothing() {
    if !kernel_tests_enabled() {
        return;
    }
    // This test process is the agent: its worker threads come and go, as vipd's do.
    let (mut program, _maps) = master_watching(WatchedAgent::this_process().unwrap());
    thread::spawn(|| ()).join().unwrap();
    let mut other = StandIn::start();
    other.signal(libc::SIGSTOP);
    assert!(wait_until(Duration::from_secs(5), || other.state() == 'T'));
    other.0.kill().unwrap();
    other.0.wait().unwrap();
    assert!(reflects(&mut program));
}
