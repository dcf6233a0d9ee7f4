//! Which driver backs an interface (ETHTOOL_GDRVINFO), and whether an answer the program sends
//! back with XDP_TX in driver (native) mode is sure to reach the wire there.
//!
//! A responder that swallows an ARP request and loses its answer is worse than none: the VIP
//! goes dark. On a veth, native XDP_TX delivers only when the peer veth has an XDP program of
//! its own, which vipd cannot see from its side (the peer is usually in another namespace: a
//! container's, a bridge's). So the default mode attaches generic (skb) mode there, where the
//! answer always gets through.
use std::{io, os::fd::AsRawFd};

/// `struct ethtool_drvinfo` of `<linux/ethtool.h>`; only `driver` is read.
#[repr(C)]
struct EthtoolDrvinfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;

/// Drivers on which native XDP_TX may not reach the wire, with the reason the log gives.
const NATIVE_TX_UNRELIABLE: &[(&str, &str)] = &[(
    "veth",
    "native XDP_TX on a veth is delivered only when its peer has an XDP program too",
)];

/// The name of the driver behind `interface` in the calling thread's network namespace
/// ("veth", "virtio_net", "mlx5_core", ...).
pub fn driver_name(interface: &str) -> io::Result<String> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: both are plain data; zeroed is a valid value of each.
    let mut info: EthtoolDrvinfo = unsafe { std::mem::zeroed() };
    info.cmd = ETHTOOL_GDRVINFO;
    // SAFETY: as above.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    if interface.len() >= ifr.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    for (dst, src) in ifr.ifr_name.iter_mut().zip(interface.bytes()) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&mut info as *mut EthtoolDrvinfo).cast();
    // SAFETY: the socket is open, ifr names the interface and points at a drvinfo buffer that
    // lives across the call.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let len = info
        .driver
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.driver.len());
    Ok(String::from_utf8_lossy(&info.driver[..len]).into_owned())
}

/// Why native XDP_TX may not reach the wire on `driver`, or `None` where it does.
pub fn native_tx_unreliable(driver: &str) -> Option<&'static str> {
    NATIVE_TX_UNRELIABLE
        .iter()
        .find(|(name, _)| *name == driver)
        .map(|(_, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drvinfo_has_the_kernel_layout() {
        assert_eq!(size_of::<EthtoolDrvinfo>(), 196);
    }

    #[test]
    fn veth_is_unreliable_for_native_tx_and_others_are_not() {
        assert!(native_tx_unreliable("veth").is_some());
        assert!(native_tx_unreliable("virtio_net").is_none());
        assert!(native_tx_unreliable("mlx5_core").is_none());
    }
}

/// Root needed: a network namespace of its own.
#[cfg(test)]
mod kernel_tests {
    use super::*;

    #[test]
    fn a_veth_is_named_by_its_driver_and_an_unknown_interface_is_an_error() {
        let ns = vipd_testkit::Netns::new("drvinfo");
        ns.ip(&[
            "link", "add", "drv0", "type", "veth", "peer", "name", "drv1",
        ]);
        assert_eq!(ns.run(|| driver_name("drv0")).unwrap(), "veth");
        assert!(ns.run(|| driver_name("nosuch0")).is_err());
    }
}
