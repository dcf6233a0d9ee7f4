//! The VRRP virtual MAC interface (`use_vmac`): a macvlan on the VRRP
//! interface whose Ethernet address is the virtual router MAC of RFC 5798
//! section 7.3, 00:00:5e:00:01:VRID for IPv4 and 00:00:5e:00:02:VRID for
//! IPv6. Hosts then keep the same neighbour entry across a takeover.
//!
//! vipd marks each vmac with an interface alias (`ip link` shows it) that
//! starts with [`VMAC_ALIAS_PREFIX`]; it deletes only interfaces carrying it,
//! so a restarted vipd removes a stale vmac and never a real interface.
//! Interfaces have no IFA_PROTO, and the alias persists in the kernel like
//! the address mark does.

use crate::family::IpFamily;
use rtnetlink::packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkInfo, LinkMessage, MacVlanMode,
};
use rtnetlink::{LinkMacVlan, LinkUnspec};

use super::devconf::{self, Ipv4Setting};
use super::{links, Netlink, NetlinkError, RemoveOutcome};

/// The start of the interface alias that marks a vmac as vipd's.
pub const VMAC_ALIAS_PREFIX: &str = "vipd vmac";

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
const MAX_IFNAME_LEN: usize = 15;

/// How the macvlan shares its parent.
///
/// `Private` is keepalived's choice and vipd's default: the macvlan neither
/// sends to nor receives from other macvlans on the same parent, so two
/// vmacs of different VRIDs on one interface never see each other's adverts
/// or ARP as if they came from the wire. `Bridge` lets local macvlans talk
/// to each other, for hosts that run services on sibling macvlans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VmacMode {
    #[default]
    Private,
    Bridge,
}

impl From<VmacMode> for MacVlanMode {
    fn from(mode: VmacMode) -> Self {
        match mode {
            VmacMode::Private => MacVlanMode::Private,
            VmacMode::Bridge => MacVlanMode::Bridge,
        }
    }
}

/// The virtual router MAC of RFC 5798 section 7.3.
pub fn vmac_address(vrid: u8, family: IpFamily) -> [u8; 6] {
    let family_octet = match family {
        IpFamily::V4 => 0x01,
        IpFamily::V6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, family_octet, vrid]
}

/// What vmac an instance wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    pub name: String,
    pub parent_ifindex: u32,
    pub vrid: u8,
    pub family: IpFamily,
    pub mode: VmacMode,
}

impl VmacSpec {
    /// A spec named like keepalived's default, `vrrp.VRID`, in private mode.
    /// An IPv4 and an IPv6 instance with the same VRID on one host need
    /// distinct names: the configuration must give one of them another.
    pub fn new(parent_ifindex: u32, vrid: u8, family: IpFamily) -> Self {
        Self {
            name: format!("vrrp.{vrid}"),
            parent_ifindex,
            vrid,
            family,
            mode: VmacMode::Private,
        }
    }

    fn alias(&self) -> String {
        format!("{VMAC_ALIAS_PREFIX} for VRID {}", self.vrid)
    }

    fn validate(&self) -> Result<(), NetlinkError> {
        let name = &self.name;
        let valid = !name.is_empty()
            && name.len() <= MAX_IFNAME_LEN
            && name != "."
            && name != ".."
            && !name.contains(['/', ':', '\0'])
            && !name.chars().any(char::is_whitespace);
        if valid && self.vrid != 0 {
            Ok(())
        } else {
            Err(NetlinkError::Invalid(format!(
                "vmac {name:?} for VRID {}: the name must be 1 to {MAX_IFNAME_LEN} bytes \
                 without '/', ':' or spaces, and the VRID 1 to 255",
                self.vrid
            )))
        }
    }
}

/// A vmac vipd created and owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    pub name: String,
    pub ifindex: u32,
    pub mac: [u8; 6],
}

fn is_vipds(link: &LinkMessage) -> bool {
    is_macvlan(link)
        && link.attributes.iter().any(|attribute| {
            matches!(attribute, LinkAttribute::IfAlias(alias)
                if alias.starts_with(VMAC_ALIAS_PREFIX))
        })
}

fn is_macvlan(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|attribute| match attribute {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|info| matches!(info, LinkInfo::Kind(InfoKind::MacVlan))),
        _ => false,
    })
}

/// Whether an existing vipd vmac already is what `spec` asks for.
fn matches_spec(link: &LinkMessage, spec: &VmacSpec) -> bool {
    let mac = vmac_address(spec.vrid, spec.family);
    let mode: MacVlanMode = spec.mode.into();
    let mut parent_ok = false;
    let mut mac_ok = false;
    let mut mode_ok = false;
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::Link(parent) => parent_ok = *parent == spec.parent_ifindex,
            LinkAttribute::Address(address) => mac_ok = address.as_slice() == mac,
            LinkAttribute::LinkInfo(infos) => {
                mode_ok = infos.iter().any(|info| {
                    matches!(info, LinkInfo::Data(InfoData::MacVlan(data))
                        if data.contains(&InfoMacVlan::Mode(mode)))
                })
            }
            _ => {}
        }
    }
    parent_ok && mac_ok && mode_ok
}

pub(super) async fn create(netlink: &Netlink, spec: &VmacSpec) -> Result<Vmac, NetlinkError> {
    spec.validate()?;
    let name = spec.name.as_str();
    let parent_name = netlink.link_name(spec.parent_ifindex).await?;
    let mac = vmac_address(spec.vrid, spec.family);
    let action = |what: &str| format!("{what} vmac {name} on {parent_name}");

    match netlink.link_by_name(name).await {
        Ok(existing) if !is_vipds(&existing) => {
            return Err(NetlinkError::VmacNameTaken {
                name: name.to_owned(),
            })
        }
        // Left by a vipd that stopped or died, exactly as wanted: adopt it
        // (configured again, in case that vipd died halfway through).
        Ok(existing) if matches_spec(&existing, spec) => {
            let ifindex = existing.header.index;
            configure_and_bring_up(netlink, spec, ifindex, &action).await?;
            return Ok(Vmac {
                name: name.to_owned(),
                ifindex,
                mac,
            });
        }
        // vipd's, but for another parent, VRID or mode: replace it.
        Ok(existing) => {
            delete_link(netlink, existing.header.index, name, &action("replacing")).await?
        }
        Err(NetlinkError::InterfaceNotFound(_)) => {}
        Err(error) => return Err(error),
    }

    let message = LinkMacVlan::new(name, spec.parent_ifindex, spec.mode.into())
        .address(mac.to_vec())
        .build();
    netlink
        .handle
        .link()
        .add(message)
        .execute()
        .await
        .map_err(|error| NetlinkError::from_rtnetlink(error, action("creating"), &parent_name))?;
    let ifindex = netlink.ifindex(name).await?;

    // The kernel (6.18) ignores an alias given with the creation request, so
    // the mark goes on in a second one, right after. A vipd killed between
    // the two leaves an unmarked macvlan; the next create then refuses the
    // name with VmacNameTaken, whose message says how to delete it.
    let mark = LinkUnspec::new_with_index(ifindex)
        .append_extra_attribute(LinkAttribute::IfAlias(spec.alias()))
        .build();
    change_link(netlink, mark, name, &action("marking")).await?;

    configure_and_bring_up(netlink, spec, ifindex, &action).await?;
    Ok(Vmac {
        name: name.to_owned(),
        ifindex,
        mac,
    })
}

async fn configure_and_bring_up(
    netlink: &Netlink,
    spec: &VmacSpec,
    ifindex: u32,
    action: &impl Fn(&str) -> String,
) -> Result<(), NetlinkError> {
    let name = spec.name.as_str();
    // The vmac answers ARP only for its own addresses (the VIPs): without
    // arp_ignore=1 it would also answer for the parent's addresses with the
    // virtual MAC. Replies to traffic that reached a VIP on the vmac leave
    // through the parent, so a strict reverse-path filter on the vmac would
    // drop it: rp_filter=0 (the kernel still applies the higher of this and
    // net.ipv4.conf.all.rp_filter).
    let ipv4 = devconf::ipv4_settings_message(
        ifindex,
        &[(Ipv4Setting::ArpIgnore, 1), (Ipv4Setting::RpFilter, 0)],
    );
    change_link(netlink, ipv4, name, &action("configuring")).await?;

    // Without this the kernel would give the vmac an EUI-64 link-local
    // address made from the virtual router MAC: the same address on every
    // router of the VRID, so duplicate address detection fails on all but
    // one and the address is useless. It must be set before the link goes
    // up, when the kernel generates the address.
    let no_link_local = LinkUnspec::new_with_index(ifindex)
        .append_extra_attribute(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
            vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
        )]))
        .build();
    match change_link(netlink, no_link_local, name, &action("configuring")).await {
        // IPv6 disabled on this host: there is no link-local to prevent.
        Err(NetlinkError::Kernel { source, .. })
            if spec.family == IpFamily::V4 && source.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
        }
        result => result?,
    }

    let up = LinkUnspec::new_with_index(ifindex).up().build();
    change_link(netlink, up, name, &action("bringing up")).await
}

pub(super) async fn remove(netlink: &Netlink, vmac: &Vmac) -> Result<RemoveOutcome, NetlinkError> {
    let link = match netlink.link_by_index(vmac.ifindex).await {
        Ok(link) => link,
        Err(NetlinkError::InterfaceNotFound(_)) => return Ok(RemoveOutcome::NotPresent),
        Err(error) => return Err(error),
    };
    if !is_vipds(&link) {
        return Ok(RemoveOutcome::NotOwned);
    }
    match delete_link(
        netlink,
        vmac.ifindex,
        &vmac.name,
        &format!("removing vmac {}", vmac.name),
    )
    .await
    {
        Ok(()) => Ok(RemoveOutcome::Removed),
        Err(NetlinkError::InterfaceNotFound(_)) => Ok(RemoveOutcome::NotPresent),
        Err(error) => Err(error),
    }
}

pub(super) async fn remove_stale(netlink: &Netlink) -> Result<Vec<String>, NetlinkError> {
    let mut removed = Vec::new();
    for link in netlink.dump_links().await? {
        if !is_vipds(&link) {
            continue;
        }
        let name = links::link_name(&link).unwrap_or_default();
        let action = format!("removing stale vmac {name}");
        match delete_link(netlink, link.header.index, &name, &action).await {
            Ok(()) | Err(NetlinkError::InterfaceNotFound(_)) => removed.push(name),
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

async fn change_link(
    netlink: &Netlink,
    message: LinkMessage,
    ifname: &str,
    action: &str,
) -> Result<(), NetlinkError> {
    netlink
        .handle
        .link()
        .change(message)
        .execute()
        .await
        .map_err(|error| NetlinkError::from_rtnetlink(error, action, ifname))
}

async fn delete_link(
    netlink: &Netlink,
    ifindex: u32,
    ifname: &str,
    action: &str,
) -> Result<(), NetlinkError> {
    netlink
        .handle
        .link()
        .del(ifindex)
        .execute()
        .await
        .map_err(|error| NetlinkError::from_rtnetlink(error, action, ifname))
}
