//! Test helpers shared by the router, validation and simulator tests: configurations and
//! real encoded adverts (tests go through the codec, never around it).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::config::RouterConfig;
use super::liveness::EchoConfig;
use super::validate::RxMeta;
use super::wire::AdvertRepr;

pub const GROUP_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
pub const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

/// The primary address of router number `n` (1-based) on the test segment.
pub fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

/// VRRPv3 / IPv4, VRID 1, one VIP, router `n` with `priority` and `interval`.
pub fn v3_config(n: u8, priority: u8, interval: Duration) -> RouterConfig {
    let mut c = RouterConfig::v3(1, priority, addr(n), vec![VIP]);
    c.advert_interval = interval;
    c.fast_mode = interval < Duration::from_millis(10);
    c.echo = EchoConfig::every(interval);
    c
}

/// The bytes and receive metadata of `repr` sent from `src` to the IPv4 group with TTL 255,
/// as `config` would emit it.
pub fn wire(config: &RouterConfig, repr: &AdvertRepr, src: IpAddr) -> (RxMeta, Vec<u8>) {
    let dst = match src {
        IpAddr::V4(_) => GROUP_V4,
        IpAddr::V6(_) => "ff02::12".parse().unwrap(),
    };
    let bytes = repr
        .emit_to_vec(src, dst, config.v3_ipv4_checksum)
        .expect("test advert emits");
    (RxMeta { src, dst, ttl: 255 }, bytes)
}
