//! The XDP program's control maps: which VRIDs to record, which VIPs to answer for, the dead-man
//! heartbeat and bound, the agent the kernel watches for it, and the per-CPU counters. [`XdpMaps`] is their one owner in
//! user space (the advert ring buffer is [`super::AdvertRing`]'s).
//!
//! The order matters to the daemon: own a VIP here before (or together with) adding it with
//! netlink, disown it before removing it, and keep the heartbeat fresh for as long as the node
//! should answer at all.
use crate::family::IpFamily;
use agent_common::{
    names, AgentWatch, OwnedV4Key, OwnedV6Key, OwnedVip, VridConfig, VridKey, XdpConfig,
    VRID_ALLOW_ANY_TTL_UNICAST, VRID_AUTHENTICATED, VRID_FOLLOWING, VRID_TRAILER_REQUIRED,
};
use aya::maps::{Array, HashMap, MapData, MapError, PerCpuArray};
use aya::Ebpf;
use std::{net::IpAddr, time::Duration};

use super::{WatchedAgent, XdpCounters};

/// A control map could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum XdpMapError {
    #[error("vipd's XDP object has no map `{0}`: rebuild with `cargo xtask build-ebpf`")]
    Missing(&'static str),
    #[error("XDP map `{name}` has an unexpected type or layout: {source} (rebuild with `cargo xtask build-ebpf`)")]
    Layout {
        name: &'static str,
        #[source]
        source: MapError,
    },
    #[error(
        "updating XDP map `{name}`: {source} (a full map means more VRIDs or VIPs than vipd \
         supports on one node)"
    )]
    Update {
        name: &'static str,
        #[source]
        source: MapError,
    },
    #[error("reading XDP map `{name}`: {source}")]
    Read {
        name: &'static str,
        #[source]
        source: MapError,
    },
}

/// The master a backup follows for a VRID, as [`XdpMaps::set_vrid_following`] tells the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowedMaster {
    pub address: IpAddr,
    /// The priority it advertises.
    pub priority: u8,
    /// Its Ethernet address, once known with the liveness echo on: where the echo replies this
    /// backup records must come from.
    pub mac: Option<[u8; 6]>,
}

/// What the program checks of one VRID's adverts, fixed by the instance's configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VridPolicy {
    /// Unicast adverts of any TTL / hop limit count (unicast peers may be routed); multicast
    /// adverts always need 255.
    pub allow_any_ttl: bool,
    /// Adverts count only once their MAC is verified (auth_hmac in any mode): none is recorded,
    /// every one reaches the socket.
    pub authenticated: bool,
    /// auth_hmac in enforce mode: adverts with no room for the trailer are dropped at the
    /// driver.
    pub trailer_required: bool,
    /// The instance's advert interval, which sets how many adverts from routers other than the
    /// followed master reach the agent (see [`news_period`]); `None`: no limit.
    pub advert_interval: Option<Duration>,
}

/// How many routers' worth of adverts, at the instance's own interval, the news allowance
/// admits besides the followed master's: every router of a large group, or an election's worth.
const NEWS_ROUTERS: u32 = 8;
/// The allowance never admits fewer than 1,000 adverts a second: slow instances (one advert a
/// second) still hear a new master at once.
const NEWS_PERIOD_MAX: Duration = Duration::from_millis(1);

/// The refill period of a VRID's news allowance (see `agent_common::VridConfig::news_period_ns`):
/// one advert from another router per `advert_interval / NEWS_ROUTERS`, at most a millisecond
/// apart, with bursts of `agent_common::NEWS_BURST`. A flood beyond that is dropped at the
/// driver and cannot crowd the followed master's adverts out of the agent's socket, while the
/// agent's work on junk stays bounded.
pub fn news_period(advert_interval: Duration) -> Duration {
    (advert_interval / NEWS_ROUTERS).min(NEWS_PERIOD_MAX)
}

/// User space's handle on the program's control maps (taken out of the loaded object with
/// [`super::XdpProgram::take_maps`]).
pub struct XdpMaps {
    vrids: HashMap<MapData, VridKey, VridConfig>,
    owned_v4: HashMap<MapData, OwnedV4Key, OwnedVip>,
    owned_v6: HashMap<MapData, OwnedV6Key, OwnedVip>,
    reflect: HashMap<MapData, VridKey, u32>,
    config: Array<MapData, XdpConfig>,
    heartbeat: Array<MapData, u64>,
    agent: Array<MapData, AgentWatch>,
    bfd_echo: Array<MapData, u32>,
    counters: PerCpuArray<MapData, u64>,
}

impl XdpMaps {
    pub(super) fn take(ebpf: &mut Ebpf) -> Result<Self, XdpMapError> {
        fn take<M: TryFrom<aya::maps::Map, Error = MapError>>(
            ebpf: &mut Ebpf,
            name: &'static str,
        ) -> Result<M, XdpMapError> {
            let map = ebpf.take_map(name).ok_or(XdpMapError::Missing(name))?;
            M::try_from(map).map_err(|source| XdpMapError::Layout { name, source })
        }
        Ok(Self {
            vrids: take(ebpf, names::VRIDS)?,
            owned_v4: take(ebpf, names::OWNED_V4)?,
            owned_v6: take(ebpf, names::OWNED_V6)?,
            reflect: take(ebpf, names::REFLECT)?,
            config: take(ebpf, names::CONFIG)?,
            heartbeat: take(ebpf, names::HEARTBEAT)?,
            agent: take(ebpf, names::AGENT)?,
            bfd_echo: take(ebpf, names::BFD_ECHO)?,
            counters: take(ebpf, names::COUNTERS)?,
        })
    }

    /// Records adverts of `vrid` arriving on `ifindex` over `family`, checked as `policy` says.
    pub fn set_vrid(
        &mut self,
        ifindex: u32,
        vrid: u8,
        family: IpFamily,
        policy: VridPolicy,
    ) -> Result<(), XdpMapError> {
        self.set_vrid_following(ifindex, vrid, family, policy, None)
    }

    /// [`XdpMaps::set_vrid`], saying which master the agent follows for this VRID, if any: its
    /// routine adverts and the echoes of the agent's probes are then recorded without waking
    /// the agent, and those adverts dropped rather than passed to its socket (see
    /// `agent_common::VridConfig`; with [`VridPolicy::authenticated`] nothing is recorded, and
    /// following only exempts the master from the news allowance). The agent must then drain
    /// the ring before every decision a record could change, which the engine does on every
    /// wake-up.
    pub fn set_vrid_following(
        &mut self,
        ifindex: u32,
        vrid: u8,
        family: IpFamily,
        policy: VridPolicy,
        following: Option<FollowedMaster>,
    ) -> Result<(), XdpMapError> {
        let mut value = VridConfig::default();
        for (on, flag) in [
            (policy.allow_any_ttl, VRID_ALLOW_ANY_TTL_UNICAST),
            (policy.authenticated, VRID_AUTHENTICATED),
            (policy.trailer_required, VRID_TRAILER_REQUIRED),
        ] {
            if on {
                value.flags |= flag;
            }
        }
        if let Some(interval) = policy.advert_interval {
            // At least one nanosecond: zero would mean no limit.
            value.news_period_ns = u32::try_from(news_period(interval).as_nanos())
                .unwrap_or(u32::MAX)
                .max(1);
        }
        if let Some(master) = following {
            value.flags |= VRID_FOLLOWING;
            value.master_priority = master.priority;
            value.master = match master.address {
                IpAddr::V4(addr) => {
                    let mut bytes = [0; 16];
                    bytes[..4].copy_from_slice(&addr.octets());
                    bytes
                }
                IpAddr::V6(addr) => addr.octets(),
            };
            value.master_mac = master.mac.unwrap_or_default();
        }
        self.vrids
            .insert(vrid_key(ifindex, vrid, family), value, 0)
            .map_err(update(names::VRIDS))
    }

    /// Stops recording adverts of `vrid`; removing one that is not there is not an error.
    pub fn remove_vrid(
        &mut self,
        ifindex: u32,
        vrid: u8,
        family: IpFamily,
    ) -> Result<(), XdpMapError> {
        let removed = self.vrids.remove(&vrid_key(ifindex, vrid, family));
        absent_is_fine(removed).map_err(update(names::VRIDS))
    }

    /// Reflects (or stops reflecting) the liveness-echo probes backups send for `vrid` on
    /// `ifindex`: on while this node is master of it. Removing an absent entry is not an error.
    pub fn set_reflect(
        &mut self,
        ifindex: u32,
        vrid: u8,
        family: IpFamily,
        reflect: bool,
    ) -> Result<(), XdpMapError> {
        let key = vrid_key(ifindex, vrid, family);
        if reflect {
            self.reflect
                .insert(key, 1, 0)
                .map_err(update(names::REFLECT))
        } else {
            absent_is_fine(self.reflect.remove(&key)).map_err(update(names::REFLECT))
        }
    }

    /// Answers ARP (IPv4) or neighbour solicitations (IPv6) for `vip` arriving on `ifindex` with
    /// `mac` while the heartbeat is fresh, and drops them while it is stale.
    pub fn own_vip(
        &mut self,
        ifindex: u32,
        vip: IpAddr,
        mac: [u8; 6],
        vrid: u8,
    ) -> Result<(), XdpMapError> {
        let value = OwnedVip { mac, vrid, _pad: 0 };
        match vip {
            IpAddr::V4(addr) => self
                .owned_v4
                .insert(
                    OwnedV4Key {
                        ifindex,
                        addr: addr.octets(),
                    },
                    value,
                    0,
                )
                .map_err(update(names::OWNED_V4)),
            IpAddr::V6(addr) => self
                .owned_v6
                .insert(
                    OwnedV6Key {
                        ifindex,
                        addr: addr.octets(),
                    },
                    value,
                    0,
                )
                .map_err(update(names::OWNED_V6)),
        }
    }

    /// Stops answering for `vip` on `ifindex`; disowning one that is not owned is not an error.
    pub fn disown_vip(&mut self, ifindex: u32, vip: IpAddr) -> Result<(), XdpMapError> {
        match vip {
            IpAddr::V4(addr) => absent_is_fine(self.owned_v4.remove(&OwnedV4Key {
                ifindex,
                addr: addr.octets(),
            }))
            .map_err(update(names::OWNED_V4)),
            IpAddr::V6(addr) => absent_is_fine(self.owned_v6.remove(&OwnedV6Key {
                ifindex,
                addr: addr.octets(),
            }))
            .map_err(update(names::OWNED_V6)),
        }
    }

    /// Stamps the agent's heartbeat: `now_ns` is CLOCK_MONOTONIC nanoseconds, the clock of
    /// `bpf_ktime_get_ns()`. Zero means "never" and silences the responders.
    pub fn heartbeat(&mut self, now_ns: u64) -> Result<(), XdpMapError> {
        self.heartbeat
            .set(0, now_ns, 0)
            .map_err(update(names::HEARTBEAT))
    }

    /// The responders answer only while the heartbeat is at most `bound` old. Until this is set
    /// (bound zero) they answer nothing.
    pub fn set_deadman_bound(&mut self, bound: Duration) -> Result<(), XdpMapError> {
        let bound_ns = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        self.config
            .set(
                0,
                XdpConfig {
                    deadman_bound_ns: bound_ns,
                },
                0,
            )
            .map_err(update(names::CONFIG))
    }

    /// Whether the program reflects RFC 9747 BFD echo packets (addressed to their sender, UDP
    /// 3785) while the agent is alive.
    pub fn set_bfd_echo(&mut self, reflect: bool) -> Result<(), XdpMapError> {
        self.bfd_echo
            .set(0, u32::from(reflect), 0)
            .map_err(update(names::BFD_ECHO))
    }

    /// Names the process whose exit or SIGSTOP silences the responders at once, without waiting
    /// out the dead-man bound; takes effect once [`super::XdpProgram::watch_agent`] has attached
    /// the watch. Write it before attaching: the watch never un-marks an exited agent.
    pub fn watch_agent(&mut self, agent: WatchedAgent) -> Result<(), XdpMapError> {
        self.agent
            .set(0, agent.entry(), 0)
            .map_err(update(names::AGENT))
    }

    /// Every counter of [`agent_common::XDP_COUNTERS`], summed over CPUs.
    pub fn counters(&self) -> Result<XdpCounters, XdpMapError> {
        let mut values = [0; agent_common::counter::COUNT as usize];
        for (index, value) in (0..).zip(values.iter_mut()) {
            let per_cpu = self
                .counters
                .get(&index, 0)
                .map_err(|source| XdpMapError::Read {
                    name: names::COUNTERS,
                    source,
                })?;
            *value = per_cpu.iter().copied().fold(0u64, u64::wrapping_add);
        }
        Ok(XdpCounters::from(values))
    }
}

fn vrid_key(ifindex: u32, vrid: u8, ip_family: IpFamily) -> VridKey {
    VridKey {
        ifindex,
        vrid,
        family: ip_family.code(),
        _pad: [0; 2],
    }
}

fn update(name: &'static str) -> impl FnOnce(MapError) -> XdpMapError {
    move |source| XdpMapError::Update { name, source }
}

/// Deleting a key that is not there fails with ENOENT; for "make sure it is gone" that is success.
fn absent_is_fine(result: Result<(), MapError>) -> Result<(), MapError> {
    match result {
        Err(MapError::SyscallError(e)) if e.io_error.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}
