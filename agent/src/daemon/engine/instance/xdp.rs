//! What the XDP program is told about an instance, and what it reports back: the VRID it
//! watches and the master it follows, the VIPs it answers ARP / NS for, the ring's records.
use tracing::warn;

use super::InstanceRuntime;
use crate::{
    dataplane::{
        netlink::Vip,
        xdp::{Advert, FollowedMaster, VridPolicy, XdpMaps},
    },
    family::IpFamily,
    vrrp::Instant,
};

impl InstanceRuntime {
    /// Registers the instance's VRID with the XDP program, so its adverts are recorded; if the
    /// program cannot watch it, the instance runs on its socket alone.
    pub fn watch_vrid(&mut self, maps: &mut XdpMaps) {
        let Some(ifindex) = self.xdp_ifindex else {
            return;
        };
        let config = self.router.config();
        if let Err(error) = maps.set_vrid(ifindex, config.vrid, config.family(), self.xdp_policy())
        {
            warn!(instance = %self.name, %error, "XDP cannot watch this VRID; sockets only");
            self.xdp_ifindex = None;
        }
    }

    /// Stops the XDP program watching the VRID of this instance, which a reload removed, unless
    /// one of `running` watches the same VRID on the same interface.
    pub fn unwatch_vrid(&self, maps: &mut XdpMaps, running: &[InstanceRuntime]) {
        let Some(ifindex) = self.xdp_ifindex else {
            return;
        };
        let config = self.router.config();
        let still_used = running.iter().any(|i| {
            i.xdp_ifindex == self.xdp_ifindex
                && i.router.config().vrid == config.vrid
                && i.router.config().family() == config.family()
        });
        if !still_used {
            let _ = maps.remove_vrid(ifindex, config.vrid, config.family());
        }
    }

    /// A record from the XDP program's advert ring, if it is this instance's (its interface,
    /// VRID and family): an echo of its probe, or an advert seen at the driver.
    pub fn handle_record(&mut self, advert: &Advert) {
        let config = self.router.config();
        if self.xdp_ifindex != Some(advert.ifindex)
            || config.vrid != advert.vrid
            || config.family() != IpFamily::of(advert.source)
        {
            return;
        }
        let at = Instant::from_nanos(advert.ktime_ns);
        if advert.is_echo {
            self.echoed(at);
        } else {
            self.master_seen(at, advert.source, advert.priority, advert.src_mac);
        }
    }

    /// Tells the XDP program which master this instance follows, when that changed (see
    /// [`XdpMaps::set_vrid_following`]): from then on that master's routine adverts reach the
    /// engine only as ring records, read whenever it wakes.
    pub(super) fn publish_following(&mut self, maps: Option<&mut XdpMaps>) {
        let (Some(maps), Some(ifindex)) = (maps, self.xdp_ifindex) else {
            return;
        };
        let following = self
            .router
            .followed_master()
            .map(|(address, priority)| FollowedMaster {
                address,
                priority,
                mac: self.router.echo_master_mac(),
            });
        if following == self.xdp_following {
            return;
        }
        let config = self.router.config();
        let family = config.family();
        match maps.set_vrid_following(ifindex, config.vrid, family, self.xdp_policy(), following) {
            Ok(()) => self.xdp_following = following,
            Err(error) => warn!(instance = %self.name, %error, "XDP VRID entry not updated"),
        }
    }

    /// What the XDP program is to check of this instance's adverts.
    fn xdp_policy(&self) -> VridPolicy {
        VridPolicy {
            allow_any_ttl: self.router.config().unicast_any_ttl,
            authenticated: self.router.authenticates(),
            trailer_required: self.router.requires_trailer(),
            advert_interval: Some(self.router.config().advert_interval),
        }
    }

    /// Adds (`own`) or removes the XDP program's ARP / NS answers for `list`; returns whether
    /// this instance has them (the XDP program on its interface).
    pub(super) fn own_in_xdp(&self, maps: Option<&mut XdpMaps>, list: &[Vip], own: bool) -> bool {
        let (Some(maps), Some(ifindex)) = (maps, self.xdp_ifindex) else {
            return false;
        };
        let mac = self.announcer.sender_mac();
        let vrid = self.router.config().vrid;
        let family = self.router.config().family();
        // Echo probes are reflected exactly while the node answers for the VIPs; never with
        // auth_hmac, whose backups do not probe (an echo carries no MAC).
        let reflect = own && !self.router.authenticates();
        if let Err(error) = maps.set_reflect(ifindex, vrid, family, reflect) {
            warn!(instance = %self.name, %error, "XDP echo reflection not updated");
        }
        for vip in list.iter().filter(|v| v.ifindex() == self.vip_ifindex) {
            let result = if own {
                maps.own_vip(ifindex, vip.addr(), mac, vrid)
            } else {
                maps.disown_vip(ifindex, vip.addr())
            };
            if let Err(error) = result {
                warn!(instance = %self.name, vip = %vip.addr(), %error, "XDP responder not updated");
            }
        }
        true
    }
}
