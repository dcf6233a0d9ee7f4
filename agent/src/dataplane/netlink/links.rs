//! Tracked interfaces: the state of named links, kept current from the
//! kernel's RTNLGRP_LINK notifications.
//!
//! A [`LinkWatch`] has its own netlink socket subscribed to link
//! notifications (a request socket shared with them would queue events
//! nobody reads). It subscribes before it dumps the initial state, so no
//! change can fall between the two; an event older than the dump may still
//! be read after it, but every later change is queued behind it, so the state
//! converges to the kernel's. When the kernel drops notifications because the
//! socket buffer overflowed (ENOBUFS, reported as an overrun), the watch dumps
//! every link again.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use futures_util::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::sys::SocketAddr;
use rtnetlink::MulticastGroup;
use tokio::task::JoinHandle;

use super::NetlinkError;

/// The state of a tracked interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Administratively up and operationally up: it can carry traffic.
    Up,
    /// Present but unable to carry traffic. `admin_up` is false after
    /// `ip link set ... down`; `carrier` is false when the cable (or the veth
    /// peer) is gone; both true means the kernel holds the link operationally
    /// down for another reason (dormant, lower layer down).
    Down { admin_up: bool, carrier: bool },
    /// No interface has this name.
    Absent,
}

impl LinkState {
    pub fn is_up(self) -> bool {
        self == Self::Up
    }

    /// Reads the state from a link message's flags. The kernel sets
    /// IFF_RUNNING exactly when the operational state is UP (or UNKNOWN, for
    /// drivers that do not report one), and IFF_LOWER_UP when it has carrier.
    pub(super) fn of(link: &LinkMessage) -> Self {
        let flags = link.header.flags;
        let admin_up = flags.contains(LinkFlags::Up);
        if admin_up && flags.contains(LinkFlags::Running) {
            Self::Up
        } else {
            Self::Down {
                admin_up,
                carrier: flags.contains(LinkFlags::LowerUp),
            }
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Up => f.write_str("up"),
            Self::Down {
                admin_up: false, ..
            } => f.write_str("down (administratively)"),
            Self::Down { carrier: false, .. } => f.write_str("down (no carrier)"),
            Self::Down { .. } => f.write_str("down (operationally)"),
            Self::Absent => f.write_str("absent"),
        }
    }
}

/// A tracked interface changed state (or, first, its initial state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    /// The tracked name.
    pub name: String,
    /// The interface's index; for `Absent`, the index it had, if it was seen.
    /// A tracked interface that comes back usually has a new index.
    pub ifindex: Option<u32>,
    pub state: LinkState,
}

/// The name in a link message.
pub(super) fn link_name(link: &LinkMessage) -> Option<String> {
    link.attributes
        .iter()
        .find_map(|attribute| match attribute {
            LinkAttribute::IfName(name) => Some(name.clone()),
            _ => None,
        })
}

type Notifications =
    futures_channel::mpsc::UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>;

/// What a tracked name last was: its index and state as last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Known {
    ifindex: Option<u32>,
    state: LinkState,
}

/// The state of the tracked names, and the events a change of it produces.
/// Kept apart from the socket so the rules can be tested on plain messages.
#[derive(Debug, Default)]
struct Tracker {
    known: HashMap<String, Known>,
    pending: VecDeque<LinkEvent>,
}

impl Tracker {
    fn new(names: Vec<String>) -> Self {
        let known = names
            .into_iter()
            .map(|name| {
                (
                    name,
                    Known {
                        ifindex: None,
                        state: LinkState::Absent,
                    },
                )
            })
            .collect();
        Self {
            known,
            pending: VecDeque::new(),
        }
    }

    /// Records `name`'s new state; queues an event if it changed or if
    /// `always` (the initial report).
    fn set(&mut self, name: &str, now: Known, always: bool) {
        let Some(known) = self.known.get_mut(name) else {
            return;
        };
        // An interface that vanished keeps its last index in the event, so
        // the daemon can tell which one went.
        let now = match now {
            Known {
                state: LinkState::Absent,
                ifindex: None,
            } => Known {
                ifindex: known.ifindex,
                state: LinkState::Absent,
            },
            now => now,
        };
        let changed = known.state != now.state
            || (now.state != LinkState::Absent && known.ifindex != now.ifindex);
        *known = now;
        if changed || always {
            self.pending.push_back(LinkEvent {
                name: name.to_owned(),
                ifindex: now.ifindex,
                state: now.state,
            });
        }
    }

    /// The tracked name currently held by interface `ifindex`, if any.
    fn name_of(&self, ifindex: u32) -> Option<String> {
        self.known
            .iter()
            .find(|(_, known)| known.state != LinkState::Absent && known.ifindex == Some(ifindex))
            .map(|(name, _)| name.clone())
    }

    /// Applies a full dump of the links: names not in it are absent.
    fn resync(&mut self, links: &[LinkMessage], initial: bool) {
        let mut present: HashMap<String, Known> = HashMap::new();
        for link in links {
            if let Some(name) = link_name(link) {
                present.insert(
                    name,
                    Known {
                        ifindex: Some(link.header.index),
                        state: LinkState::of(link),
                    },
                );
            }
        }
        let mut names: Vec<String> = self.known.keys().cloned().collect();
        names.sort();
        for name in names {
            let now = present.remove(&name).unwrap_or(Known {
                ifindex: None,
                state: LinkState::Absent,
            });
            self.set(&name, now, initial);
        }
    }

    /// Applies one RTM_NEWLINK notification.
    fn new_link(&mut self, link: &LinkMessage) {
        let ifindex = link.header.index;
        let name = link_name(link);
        // Renamed away from a tracked name: that name is gone.
        if let Some(previous) = self.name_of(ifindex) {
            if name.as_deref() != Some(previous.as_str()) {
                self.set(&previous, Known::absent(), false);
            }
        }
        if let Some(name) = name {
            self.set(
                &name,
                Known {
                    ifindex: Some(ifindex),
                    state: LinkState::of(link),
                },
                false,
            );
        }
    }

    /// Applies one RTM_DELLINK notification.
    fn del_link(&mut self, link: &LinkMessage) {
        if let Some(name) = self.name_of(link.header.index) {
            self.set(&name, Known::absent(), false);
        }
    }
}

impl Known {
    fn absent() -> Self {
        Self {
            ifindex: None,
            state: LinkState::Absent,
        }
    }
}

/// A stream of [`LinkEvent`]s for a set of tracked interface names.
///
/// Dropping it closes its socket.
#[derive(Debug)]
pub struct LinkWatch {
    handle: rtnetlink::Handle,
    notifications: Notifications,
    connection: JoinHandle<()>,
    tracker: Tracker,
    /// Set while a resync is owed, so a `next()` cancelled in the middle of
    /// one (in a `select!`) does it again on the next call.
    resync_owed: bool,
}

impl Drop for LinkWatch {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl LinkWatch {
    pub(super) async fn start(names: Vec<String>) -> Result<Self, NetlinkError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| NetlinkError::NoRuntime)?;
        let (connection, handle, notifications) =
            rtnetlink::new_multicast_connection(&[MulticastGroup::Link])
                .map_err(NetlinkError::Socket)?;
        let connection = runtime.spawn(connection);
        let mut watch = Self {
            handle,
            notifications,
            connection,
            tracker: Tracker::new(names),
            resync_owed: false,
        };
        let links = watch.dump().await?;
        watch.tracker.resync(&links, true);
        Ok(watch)
    }

    /// The next change of a tracked interface. Returns `None` only when the
    /// watch's socket has failed; the daemon should then treat the tracked
    /// interfaces as unknown and start a new watch. Cancel-safe.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        loop {
            if let Some(event) = self.tracker.pending.pop_front() {
                return Some(event);
            }
            if self.resync_owed {
                let links = self.dump().await.ok()?;
                self.resync_owed = false;
                self.tracker.resync(&links, false);
                continue;
            }
            let (message, _) = self.notifications.next().await?;
            match message.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link))
                    if is_device_message(&link) =>
                {
                    self.tracker.new_link(&link)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link))
                    if is_device_message(&link) =>
                {
                    self.tracker.del_link(&link)
                }
                NetlinkPayload::Overrun(_) => {
                    tracing::warn!("netlink link notifications overflowed; re-reading all links");
                    self.resync_owed = true;
                }
                _ => {}
            }
        }
    }

    async fn dump(&self) -> Result<Vec<LinkMessage>, NetlinkError> {
        self.handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|error| NetlinkError::from_rtnetlink(error, "listing interfaces", ""))
    }
}

/// Whether a link notification is about the device itself. The bridge
/// sends AF_BRIDGE notifications on the same group about its ports,
/// including an RTM_DELLINK when a port merely leaves the bridge.
fn is_device_message(link: &LinkMessage) -> bool {
    link.header.interface_family == AddressFamily::Unspec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str, flags: LinkFlags) -> LinkMessage {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.header.flags = flags;
        link.attributes.push(LinkAttribute::IfName(name.into()));
        link
    }

    fn up() -> LinkFlags {
        LinkFlags::Up | LinkFlags::Running | LinkFlags::LowerUp
    }

    fn drain(tracker: &mut Tracker) -> Vec<LinkEvent> {
        tracker.pending.drain(..).collect()
    }

    fn event(name: &str, ifindex: Option<u32>, state: LinkState) -> LinkEvent {
        LinkEvent {
            name: name.into(),
            ifindex,
            state,
        }
    }

    #[test]
    fn state_follows_admin_flag_oper_state_and_carrier() {
        assert_eq!(LinkState::of(&link(1, "a", up())), LinkState::Up);
        assert_eq!(
            LinkState::of(&link(1, "a", LinkFlags::empty())),
            LinkState::Down {
                admin_up: false,
                carrier: false
            }
        );
        assert_eq!(
            LinkState::of(&link(1, "a", LinkFlags::Up)),
            LinkState::Down {
                admin_up: true,
                carrier: false
            }
        );
        assert_eq!(
            LinkState::of(&link(1, "a", LinkFlags::Up | LinkFlags::LowerUp)),
            LinkState::Down {
                admin_up: true,
                carrier: true
            }
        );
    }

    #[test]
    fn initial_resync_reports_every_tracked_name_once() {
        let mut tracker = Tracker::new(vec!["eth0".into(), "eth9".into()]);
        tracker.resync(&[link(2, "eth0", up()), link(3, "other", up())], true);
        assert_eq!(
            drain(&mut tracker),
            vec![
                event("eth0", Some(2), LinkState::Up),
                event("eth9", None, LinkState::Absent),
            ]
        );
    }

    #[test]
    fn only_changes_of_tracked_names_are_reported() {
        let mut tracker = Tracker::new(vec!["eth0".into()]);
        tracker.resync(&[link(2, "eth0", up())], true);
        drain(&mut tracker);
        tracker.new_link(&link(2, "eth0", up()));
        tracker.new_link(&link(3, "eth1", LinkFlags::empty()));
        assert!(drain(&mut tracker).is_empty());
        tracker.new_link(&link(2, "eth0", LinkFlags::Up));
        assert_eq!(
            drain(&mut tracker),
            vec![event(
                "eth0",
                Some(2),
                LinkState::Down {
                    admin_up: true,
                    carrier: false
                }
            )]
        );
    }

    #[test]
    fn vanishing_and_reappearing_with_a_new_index() {
        let mut tracker = Tracker::new(vec!["eth0".into()]);
        tracker.resync(&[link(2, "eth0", up())], true);
        drain(&mut tracker);
        tracker.del_link(&link(2, "eth0", LinkFlags::empty()));
        tracker.new_link(&link(9, "eth0", up()));
        assert_eq!(
            drain(&mut tracker),
            vec![
                event("eth0", Some(2), LinkState::Absent),
                event("eth0", Some(9), LinkState::Up),
            ]
        );
    }

    #[test]
    fn renaming_away_makes_the_tracked_name_absent() {
        let mut tracker = Tracker::new(vec!["eth0".into()]);
        tracker.resync(&[link(2, "eth0", up())], true);
        drain(&mut tracker);
        tracker.new_link(&link(2, "lan0", up()));
        assert_eq!(
            drain(&mut tracker),
            vec![event("eth0", Some(2), LinkState::Absent)]
        );
    }

    #[test]
    fn bridge_port_notifications_are_not_device_events() {
        let mut port = link(2, "eth0", up());
        port.header.interface_family = AddressFamily::Bridge;
        assert!(!is_device_message(&port));
        assert!(is_device_message(&link(2, "eth0", up())));
    }

    #[test]
    fn display_says_why_a_link_is_down() {
        assert_eq!(
            LinkState::Down {
                admin_up: true,
                carrier: false
            }
            .to_string(),
            "down (no carrier)"
        );
        assert_eq!(
            LinkState::Down {
                admin_up: false,
                carrier: true
            }
            .to_string(),
            "down (administratively)"
        );
    }
}
