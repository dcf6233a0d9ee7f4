//! The XDP program: the object embedded in the binary, loading and attaching it, its control maps
//! (VRIDs, owned VIPs, dead-man switch, counters), and reading the ring buffer of adverts it stamps
//! at the driver.
//!
//! One [`XdpProgram`] owns the loaded object; the ring and the control maps are taken out of it
//! once, each by its one owner. Links it creates belong to this process (nothing is pinned), so
//! the program leaves the interface when vipd exits or is killed; before that, [`agent_watch`]
//! has the kernel silence its responders the moment vipd exits or takes SIGSTOP.
//!
//! veth and XDP_TX: in driver (native) mode a veth only delivers what a program sends back with
//! XDP_TX (the ARP and NA answers) when the peer veth has an XDP program attached too; a
//! pass-through program is enough. Generic mode has no such need, so the default mode attaches
//! generic mode on veths ([`driver`]).
mod adverts;
mod agent_watch;
mod counters;
mod driver;
mod maps;
mod object;
mod program;

pub use adverts::{Advert, AdvertRing, AsyncAdvertRing};
pub use agent_watch::WatchedAgent;
pub use counters::XdpCounters;
pub use maps::{FollowedMaster, VridPolicy, XdpMapError, XdpMaps};
pub use program::{
    xdp_action, AttachMode, Attachment, ProgramSize, XdpError, XdpProgram, TEST_RUN_IFINDEX,
};
