//! The liveness echo (see `agent_common::ETH_P_VIPD_ECHO`): a master reflects its backups'
//! probes at the driver, and a backup records the echoes for its engine.
//!
//! Reflection needs no user-space thread on the master, only that this node is master of the
//! VRID (user space keeps [`REFLECT`] current) and that its agent is alive (the dead-man
//! switch): a master whose advert thread is late keeps echoing, a master whose agent hangs stops
//! within the dead-man bound, a dead or disconnected one stops at once.
use agent_common::{
    counter, echo_kind, record_kind, AdvertRecord, EchoFrame, VridKey, ECHO_MAGIC, VRID_FOLLOWING,
};
use aya_ebpf::{
    bindings::{xdp_action, BPF_RB_NO_WAKEUP},
    helpers::bpf_ktime_get_ns,
    programs::XdpContext,
};

use crate::{
    deadman,
    maps::{count, ADVERTS, REFLECT, VRIDS},
    parse::{header_at_mut, L2},
    structs::EthHdr,
};

#[inline(always)]
pub fn handle(ctx: &XdpContext, l2: &L2) -> u32 {
    let now = unsafe { bpf_ktime_get_ns() };
    let (Some(eth), Some(frame)) = (
        header_at_mut::<EthHdr>(ctx, 0),
        header_at_mut::<EchoFrame>(ctx, l2.l3),
    ) else {
        count(counter::MALFORMED);
        return xdp_action::XDP_PASS;
    };
    // SAFETY: header_at_mut proved both headers lie inside the frame; nothing else aliases it.
    let (eth, frame) = unsafe { (&mut *eth, &mut *frame) };
    if frame.magic != ECHO_MAGIC {
        return xdp_action::XDP_PASS;
    }
    let key = VridKey {
        ifindex: ctx.ingress_ifindex() as u32,
        vrid: frame.vrid,
        family: frame.family,
        _pad: [0; 2],
    };
    match frame.kind {
        echo_kind::PROBE => {
            // SAFETY: only presence is read.
            if unsafe { REFLECT.get(key) }.is_none() {
                return xdp_action::XDP_PASS;
            }
            if !deadman::agent_alive() {
                count(counter::DEADMAN_SUPPRESSED);
                return xdp_action::XDP_PASS;
            }
            core::mem::swap(&mut eth.src, &mut eth.dst);
            frame.kind = echo_kind::REPLY;
            count(counter::ECHO_REFLECTED);
            xdp_action::XDP_TX
        }
        echo_kind::REPLY => {
            // SAFETY: the value is copied out at once.
            let Some(vrid) = (unsafe { VRIDS.get(key) }).copied() else {
                return xdp_action::XDP_PASS;
            };
            // Only the master this node probes answers its probes: anyone else's replies are
            // forged (or stray) and must neither fill the ring nor reach the engine.
            if vrid.flags & VRID_FOLLOWING == 0 || eth.src != vrid.master_mac {
                count(counter::ECHO_FOREIGN);
                return xdp_action::XDP_DROP;
            }
            let Some(mut entry) = ADVERTS.reserve::<AdvertRecord>(0) else {
                count(counter::RING_FULL);
                return xdp_action::XDP_DROP;
            };
            entry.write(AdvertRecord {
                ktime_ns: now,
                ifindex: key.ifindex,
                family: key.family,
                version: 0,
                vrid: key.vrid,
                priority: 0,
                adver_int: 0,
                ttl: 0,
                addr_count: 0,
                src: [0; 16],
                vlan_tci: l2.vlan_tci,
                src_mac: eth.src,
                kind: record_kind::ECHO,
                _pad: 0,
            });
            // A following backup drains the ring before its echo timeout could expire: the echo
            // need not wake it (it only ever keeps the master alive).
            entry.submit(u64::from(BPF_RB_NO_WAKEUP));
            count(counter::ECHO_RECORDED);
            // The echo is for this node's agent only; the stack has no use for it.
            xdp_action::XDP_DROP
        }
        _ => xdp_action::XDP_PASS,
    }
}
