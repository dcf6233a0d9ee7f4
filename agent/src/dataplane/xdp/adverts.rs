//! Reading the ring buffer of adverts the XDP program stamped at the driver.
//!
//! Two ways to consume it: [`AdvertRing::try_next`] for a thread that polls the ring's fd itself
//! (the daemon's engine thread, which must not wait on tokio's millisecond timers), and
//! [`AsyncAdvertRing`] for tokio code such as `vipd watch`.
use agent_common::{family, record_kind, AdvertRecord, VLAN_TAGGED};
use aya::maps::{Map, MapData, MapError, RingBuf};
use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd},
};
use tokio::io::{unix::AsyncFd, Interest};

/// One advert as the XDP program saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advert {
    /// CLOCK_MONOTONIC nanoseconds when the frame reached the XDP program.
    pub ktime_ns: u64,
    pub ifindex: u32,
    pub source: IpAddr,
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// The interval field as on the wire: v3 the whole Rsvd|Max Adver Int word, v2 Adver Int.
    pub adver_int: u16,
    /// TTL or hop limit.
    pub ttl: u8,
    pub addr_count: u8,
    /// The VLAN id when the frame carried an 802.1Q tag.
    pub vlan_id: Option<u16>,
    /// The frame's Ethernet source.
    pub src_mac: [u8; 6],
    /// An echo of this node's own liveness probe, reflected by the master (see
    /// `agent_common::ETH_P_VIPD_ECHO`), not an advert: only `ktime_ns`, `ifindex`, `vrid`,
    /// `src_mac` and the family of `source` (unspecified address) mean anything.
    pub is_echo: bool,
}

impl Advert {
    /// Decodes a ring-buffer record; `None` for a record of the wrong size or family, which
    /// would mean the object and the agent were built from different sources.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < size_of::<AdvertRecord>() {
            return None;
        }
        // SAFETY: the length was checked; AdvertRecord is Pod, so any bytes are a valid value,
        // and read_unaligned does not need the ring's alignment.
        let record: AdvertRecord =
            unsafe { bytes.as_ptr().cast::<AdvertRecord>().read_unaligned() };
        let source = match record.family {
            _ if record.kind == record_kind::ECHO => match record.family {
                family::IPV4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                _ => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            },
            family::IPV4 => IpAddr::V4(Ipv4Addr::new(
                record.src[0],
                record.src[1],
                record.src[2],
                record.src[3],
            )),
            family::IPV6 => IpAddr::V6(Ipv6Addr::from(record.src)),
            _ => return None,
        };
        Some(Self {
            ktime_ns: record.ktime_ns,
            ifindex: record.ifindex,
            source,
            version: record.version,
            vrid: record.vrid,
            priority: record.priority,
            adver_int: record.adver_int,
            ttl: record.ttl,
            addr_count: record.addr_count,
            vlan_id: (record.vlan_tci & VLAN_TAGGED != 0)
                .then_some((record.vlan_tci & 0x0fff) as u16),
            src_mac: record.src_mac,
            is_echo: record.kind == record_kind::ECHO,
        })
    }
}

/// The advert ring buffer, consumed without blocking.
pub struct AdvertRing {
    ring: RingBuf<MapData>,
}

impl AdvertRing {
    pub(super) fn new(map: Map) -> Result<Self, MapError> {
        Ok(Self {
            ring: RingBuf::try_from(map)?,
        })
    }

    /// The next advert, or `None` when the ring is empty. Records that do not decode are
    /// skipped (see [`Advert::from_bytes`]).
    pub fn try_next(&mut self) -> Option<Advert> {
        loop {
            let item = self.ring.next()?;
            if let Some(advert) = Advert::from_bytes(&item) {
                return Some(advert);
            }
        }
    }

    /// Registers the ring with the current tokio runtime.
    pub fn into_async(self) -> io::Result<AsyncAdvertRing> {
        // SAFETY: the AsyncFd takes ownership of the ring and with it the fd, so the fd stays
        // open while it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(self, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(AsyncAdvertRing { fd })
    }
}

impl AsFd for AdvertRing {
    /// Readable (epoll, poll) whenever records are waiting.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ring.as_fd()
    }
}

impl AsRawFd for AdvertRing {
    /// Readable (epoll, poll) whenever records are waiting.
    fn as_raw_fd(&self) -> RawFd {
        self.ring.as_raw_fd()
    }
}

/// The advert ring buffer registered with tokio.
pub struct AsyncAdvertRing {
    fd: AsyncFd<AdvertRing>,
}

impl AsyncAdvertRing {
    /// Waits for the next advert.
    pub async fn next(&mut self) -> io::Result<Advert> {
        loop {
            let mut ready = self.fd.readable_mut().await?;
            if let Some(advert) = ready.get_inner_mut().try_next() {
                return Ok(advert);
            }
            ready.clear_ready();
        }
    }
}
