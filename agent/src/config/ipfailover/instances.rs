//! The VRRP instances config-generators.sh's `generate_failover_config` writes, and what each
//! is on this node. Every node of the deployment derives the same instances and VRIDs from the
//! same environment; only the priorities and the starting state depend on the node, through
//! the last octet of its address (its "slot"), so that the replicas share the masterships out.

use std::net::{IpAddr, Ipv4Addr};

use super::settings::{Preemption, Settings};

/// The random part of a backup's priority, 0 to 31, for the instance numbered `counter` (the
/// script takes `$RANDOM % 32` afresh for each).
pub type Jitter = dyn Fn(u32) -> u8;

/// One `vrrp_instance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// From 1, as the script counts; part of the name and of the VRID.
    pub counter: u32,
    pub vrid: u32,
    pub priority: u32,
    /// The script writes `state MASTER`; otherwise keepalived starts as backup.
    pub starts_master: bool,
    pub vips: Vec<IpAddr>,
}

/// The instances, in the order the script writes them. `node` is the node's first IPv4
/// address on the interface; without one the script's slot arithmetic reads an empty octet as 0.
pub fn derive(settings: &Settings, node: Option<Ipv4Addr>, jitter: &Jitter) -> Vec<Derived> {
    let slot = node.map_or(0, |a| u32::from(a.octets()[3]) % 128);
    // This node is master of every `stride`-th instance, so that `replica_count` nodes with
    // consecutive slots each own a share.
    let stride = slot % settings.replica_count + 1;
    let mut vrids = Vrids::new(settings);
    let mut previous_master = false;
    let mut derived = Vec::new();
    for (index, vips) in groups(&settings.vips, settings.vip_groups)
        .into_iter()
        .enumerate()
    {
        let counter = index as u32 + 1;
        let mut priority = slot % 64 + u32::from(jitter(counter) % 32);
        let mut starts_master = false;
        if counter.is_multiple_of(stride) {
            // The script does not start nopreempt instances as master: keepalived refuses
            // `nopreempt` with `state MASTER`.
            starts_master = settings.preemption != Preemption::Never;
            if previous_master {
                // Two owned instances in a row: the second gets a low priority, so that
                // another node takes it ("flip-flop").
                priority = slot + 1;
                previous_master = false;
            } else {
                priority = 255 - slot;
                previous_master = starts_master;
            }
        }
        derived.push(Derived {
            counter,
            vrid: vrids.next(counter),
            priority,
            starts_master,
            vips,
        });
    }
    derived
}

/// The VIPs split into `groups` instances (0: one per VIP), the first `len % groups` getting
/// one more; with more groups than VIPs every VIP is an instance of its own.
fn groups(vips: &[IpAddr], groups: usize) -> Vec<Vec<IpAddr>> {
    let (per_group, mut extra) = match groups {
        0 => (1, 0),
        n => (vips.len() / n, vips.len() % n),
    };
    let mut out = Vec::new();
    let mut rest = vips;
    while !rest.is_empty() {
        let mut take = per_group;
        if extra > 0 {
            take += 1;
            extra -= 1;
        }
        let (group, tail) = rest.split_at(take.min(rest.len()));
        out.push(group.to_vec());
        rest = tail;
    }
    out
}

/// VRIDs are offset + counter; an excluded VRID raises the offset by one until it is not, and
/// the raised offset stays for the instances after it (the script assigns
/// `HA_VRRP_ID_OFFSET`, which outlives the function call).
struct Vrids<'a> {
    offset: u32,
    excluded: &'a [u32],
}

impl<'a> Vrids<'a> {
    fn new(settings: &'a Settings) -> Self {
        Vrids {
            offset: settings.vrid_offset,
            excluded: &settings.excluded_vrids,
        }
    }

    fn next(&mut self, counter: u32) -> u32 {
        while self.excluded.contains(&(self.offset + counter)) {
            self.offset += 1;
        }
        self.offset + counter
    }
}
