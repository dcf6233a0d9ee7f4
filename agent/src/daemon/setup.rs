//! Turning the configuration into running instances: interfaces resolved, virtual MACs created,
//! sockets opened, routers built. Every failure names the configuration line it comes from.
use crate::family::IpFamily;
use anyhow::{anyhow, Context, Result};
use std::net::IpAddr;

use super::{
    convert,
    engine::{InstanceParts, InstanceRuntime},
    xdp::XdpAttachments,
};
use crate::{
    config::{
        model::{Auth, Instance},
        Checked, FieldPath, Item,
    },
    control::board::{InstanceIdentity, StatusBoard},
    dataplane::{
        netlink::{self, Netlink, Vmac, VmacSpec},
        packet::{
            AdvertProtocol, AnnouncePacer, AnnouncePlan, AnnounceSocket, InterfaceInfo, VrrpSocket,
        },
    },
    vrrp::Router,
};

/// An instance ready for the engine but for the XDP program, plus what the daemon must undo at
/// exit.
pub struct Prepared {
    pub parts: InstanceParts,
    /// The VRRP interface (the parent under use_vmac), where the XDP program goes.
    pub parent_ifindex: u32,
    pub parent_name: String,
    pub vmac: Option<Vmac>,
}

/// Prepares instance `index` of the checked configuration.
pub async fn prepare(
    netlink: &Netlink,
    checked: &Checked,
    index: usize,
    board: &StatusBoard,
) -> Result<Prepared> {
    let instance = &checked.config.instances[index];
    let at = |key| {
        checked
            .sources
            .locate(FieldPath::key(Item::Instance(index), key))
    };
    let parent_ifindex = netlink
        .ifindex(&instance.interface)
        .await
        .with_context(|| format!("{}: instance `{}`", at("interface"), instance.name))?;
    let family = instance.family;

    let vmac = if instance.use_vmac {
        if family == IpFamily::V6 {
            return Err(anyhow!(
                "{}: instance `{}`: use_vmac with IPv6 VIPs is not supported yet",
                at("use_vmac"),
                instance.name
            ));
        }
        let mut spec = VmacSpec::new(parent_ifindex, instance.vrid.get(), IpFamily::V4);
        if let Some(name) = &instance.vmac_interface {
            spec.name = name.clone();
        }
        Some(
            netlink
                .create_vmac(&spec)
                .await
                .with_context(|| format!("{}: instance `{}`", at("use_vmac"), instance.name))?,
        )
    } else {
        None
    };
    let send_interface = vmac
        .as_ref()
        .map_or(instance.interface.clone(), |v| v.name.clone());

    // Under use_vmac adverts still come from the parent's primary address, as keepalived's do.
    let source = match (instance.unicast_source, &vmac) {
        (Some(source), _) => Some(source),
        (None, Some(_)) => InterfaceInfo::lookup(&instance.interface)?
            .primary_ipv4
            .map(IpAddr::V4),
        (None, None) => None,
    };
    let protocol = match instance.auth {
        Auth::Ah(_) => AdvertProtocol::IpsecAh,
        Auth::None | Auth::Pass(_) => AdvertProtocol::Vrrp,
    };
    let mut socket = VrrpSocket::open(&send_interface, family, source, protocol)
        .with_context(|| format!("{}: instance `{}`", at("interface"), instance.name))?;
    if instance.unicast_peers.is_empty() {
        socket.join_group()?;
    }
    let primary = socket.source();
    let router = Router::new(convert::router_config(instance, primary))
        .map_err(|e| anyhow!("{}: instance `{}`: {e}", at("name"), instance.name))?;

    let announcer = AnnounceSocket::open(&send_interface, vmac.as_ref().map(|v| v.mac))
        .with_context(|| format!("instance `{}`: announcement socket", instance.name))?;
    let vip_ifindex = vmac.as_ref().map_or(parent_ifindex, |v| v.ifindex);
    let vips = vips(netlink, instance, vip_ifindex).await?;
    let plan = AnnouncePlan::new(
        convert::announce_settings(&instance.garp),
        vips.iter().map(|v| v.addr()),
    );
    let pacer = AnnouncePacer::new(instance.garp.arp_interval, instance.garp.na_interval);

    let feed = board.add_instance(
        InstanceIdentity {
            name: instance.name.clone(),
            interface: instance.interface.clone(),
            dataplane: "socket".into(),
        },
        &router,
    );
    Ok(Prepared {
        parts: InstanceParts {
            name: instance.name.clone(),
            feed,
            router,
            destinations: convert::advert_destinations(instance, primary),
            socket,
            announcer,
            plan,
            pacer,
            vips,
            vip_ifindex,
        },
        parent_ifindex,
        parent_name: instance.interface.clone(),
        vmac,
    })
}

impl Prepared {
    /// The instance as the engine runs it: on the XDP program if `xdp` can attach to its VRRP
    /// interface, else on sockets alone.
    pub fn into_runtime(self, xdp: Option<&mut XdpAttachments>) -> InstanceRuntime {
        let binding = xdp.and_then(|xdp| xdp.bind(&self));
        InstanceRuntime::new(self.parts, binding)
    }
}

/// The netlink form of the instance's VIPs and excluded VIPs.
async fn vips(
    netlink: &Netlink,
    instance: &Instance,
    default_ifindex: u32,
) -> Result<Vec<netlink::Vip>> {
    let mut out = Vec::new();
    for vip in instance.vips.iter().chain(&instance.excluded_vips) {
        let ifindex = match &vip.device {
            Some(device) => netlink.ifindex(device).await?,
            None => default_ifindex,
        };
        let mut v = netlink::Vip::new(vip.address.addr(), vip.address.prefix_len(), ifindex)?;
        if let Some(label) = &vip.label {
            v = v.with_label(label.clone())?;
        }
        if let Some(broadcast) = vip.broadcast {
            v = v.with_broadcast(broadcast)?;
        }
        out.push(v);
    }
    Ok(out)
}
