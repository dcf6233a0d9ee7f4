//! Fuzz vipd's XDP program: random frames through BPF_PROG_TEST_RUN (root only), every run
//! checked against [`vipd_fuzz::xdp_model`]: the verdict is pass, drop or TX, a frame is
//! changed only when it is answered (an ARP request or neighbour solicitation for the owned
//! VIP, an echo probe while master, each only while the agent's heartbeat is fresh), the answer
//! is exactly the one the protocol prescribes and never longer than the input plus
//! [`MAX_GROWTH`], and the ring gets a record exactly for an advert of the configured VRID
//! (unless it is authenticated) or an echo from the followed master.
//!
//! The first input byte sets the switches of the run (see [`Switches::from_byte`]); the rest is
//! the frame. The object is loaded and its maps set up once per process, as the daemon does.
//!
//! Run: `cd agent/fuzz && cargo +nightly fuzz run xdp_program`.
#![no_main]

use std::cell::RefCell;
use std::net::IpAddr;
use std::time::Duration;
use vipd::family::IpFamily;

use libfuzzer_sys::fuzz_target;
use vipd::dataplane::xdp::{
    AdvertRing, FollowedMaster, VridPolicy, XdpMaps, XdpProgram, TEST_RUN_IFINDEX,
};
use vipd_fuzz::xdp_model::{
    expected, Record, Switches, ETH_HLEN, FOLLOWED_MAC, FOLLOWED_MASTER4, FOLLOWED_PRIORITY,
    MAX_GROWTH, OTHER_INTERFACE_VIP4, OWNER_MAC, VIP4, VIP6, VRID,
};

/// The largest frame tried: a full Ethernet frame behind a VLAN tag. (The kernel refuses test
/// runs of more than about a page.)
const MAX_FRAME: usize = 1522;

struct Harness {
    program: XdpProgram,
    maps: XdpMaps,
    ring: AdvertRing,
}

impl Harness {
    fn new() -> Harness {
        let mut program = XdpProgram::load().expect("load the XDP program (as root)");
        let mut maps = program.take_maps().expect("control maps");
        let ring = program.take_adverts().expect("advert ring");
        for vip in [IpAddr::V4(VIP4), IpAddr::V6(VIP6)] {
            maps.own_vip(TEST_RUN_IFINDEX, vip, OWNER_MAC, VRID)
                .expect("own a VIP");
        }
        maps.own_vip(
            TEST_RUN_IFINDEX + 1,
            IpAddr::V4(OTHER_INTERFACE_VIP4),
            OWNER_MAC,
            VRID,
        )
        .expect("own a VIP elsewhere");
        maps.set_reflect(TEST_RUN_IFINDEX, VRID, IpFamily::V4, true)
            .expect("reflect");
        maps.set_deadman_bound(Duration::from_secs(60))
            .expect("dead-man bound");
        Harness {
            program,
            maps,
            ring,
        }
    }

    fn apply(&mut self, switches: Switches) {
        let heartbeat = if switches.alive {
            vipd::clock::now().as_micros() * 1_000
        } else {
            // Older than the bound: CLOCK_MONOTONIC's first nanosecond.
            1
        };
        self.maps.heartbeat(heartbeat).expect("heartbeat");
        let policy = VridPolicy {
            allow_any_ttl: switches.allow_any_ttl,
            authenticated: switches.authenticated,
            trailer_required: switches.trailer_required,
            advert_interval: Some(Duration::from_millis(100)),
        };
        let followed = FollowedMaster {
            address: IpAddr::V4(FOLLOWED_MASTER4),
            priority: FOLLOWED_PRIORITY,
            mac: Some(FOLLOWED_MAC),
        };
        // Written afresh every run: no interval seen yet, a full news allowance.
        self.maps
            .set_vrid_following(
                TEST_RUN_IFINDEX,
                VRID,
                IpFamily::V4,
                policy,
                switches.following.then_some(followed),
            )
            .expect("VRID");
        self.maps
            .set_vrid(TEST_RUN_IFINDEX, VRID, IpFamily::V6, policy)
            .expect("VRID");
    }
}

thread_local! {
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

fuzz_target!(|data: &[u8]| {
    let Some((&byte, frame)) = data.split_first() else {
        return;
    };
    let frame = &frame[..frame.len().min(MAX_FRAME)];
    let switches = Switches::from_byte(byte);
    HARNESS.with_borrow_mut(|h| {
        h.apply(switches);
        let result = h.program.test_run(frame);
        if frame.len() < ETH_HLEN {
            assert!(
                result.is_err(),
                "the kernel runs nothing on {} bytes",
                frame.len()
            );
            return;
        }
        let (verdict, out) = result.expect("BPF_PROG_TEST_RUN");
        let records: Vec<_> = std::iter::from_fn(|| h.ring.try_next()).collect();
        assert!(
            out.len() <= frame.len() + MAX_GROWTH,
            "grew from {} to {} bytes",
            frame.len(),
            out.len()
        );
        let want = expected(frame, switches);
        assert_eq!(
            verdict, want.verdict,
            "verdict for {frame:02x?} under {switches:?}"
        );
        assert_eq!(
            out, want.frame,
            "frame left for {frame:02x?} under {switches:?}"
        );
        let got: Vec<Record> = records
            .iter()
            .map(|r| {
                if r.is_echo {
                    Record::Echo {
                        vrid: r.vrid,
                        src_mac: r.src_mac,
                    }
                } else {
                    Record::Advert {
                        source: r.source,
                        version: r.version,
                        vrid: r.vrid,
                        priority: r.priority,
                        adver_int: r.adver_int,
                        ttl: r.ttl,
                        addr_count: r.addr_count,
                        vlan_id: r.vlan_id,
                        src_mac: r.src_mac,
                    }
                }
            })
            .collect();
        assert_eq!(got, Vec::from_iter(want.record), "records of {frame:02x?}");
        assert!(records.iter().all(|r| r.ifindex == TEST_RUN_IFINDEX));
    });
});
