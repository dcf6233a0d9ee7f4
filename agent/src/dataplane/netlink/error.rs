//! The errors of vipd's netlink owner, worded for the person running vipd.
//!
//! The kernel answers a refused request with an errno; this module turns the
//! errnos a user can act on into variants the daemon can decide on (an
//! interface that is gone puts an instance in FAULT, a missing capability is
//! fatal) and keeps the action that failed ("adding 192.0.2.10/24 to eth0") in
//! every message.

use std::io;

/// Why a netlink request failed.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The netlink socket itself could not be opened.
    #[error("cannot open a netlink route socket: {0}")]
    Socket(#[source] io::Error),

    /// The kernel cannot mark addresses (IFA_PROTO needs Linux 5.18).
    #[error(
        "vipd needs Linux 5.18 or newer to mark the addresses it adds (IFA_PROTO); \
         this kernel is {release}"
    )]
    KernelTooOld { release: String },

    /// `Netlink::new` was called outside a tokio runtime.
    #[error("the netlink connection needs a tokio runtime (internal error in vipd)")]
    NoRuntime,

    /// The named interface (or the interface with that index) does not exist.
    #[error("interface {0} not found")]
    InterfaceNotFound(String),

    /// The kernel refused for lack of privilege.
    #[error("{action}: permission denied (vipd needs CAP_NET_ADMIN)")]
    PermissionDenied { action: String },

    /// IPv6 is disabled on the interface, so it takes no IPv6 address (the
    /// kernel says EACCES, which is not about privilege here).
    #[error(
        "adding {vip} to {interface}: IPv6 is disabled on {interface} \
         (sysctl net.ipv6.conf.{interface}.disable_ipv6=1)"
    )]
    Ipv6Disabled { vip: String, interface: String },

    /// The interface exists but has no 6-byte Ethernet address (loopback,
    /// tun, wireguard): VRRP cannot run on it.
    #[error("interface {0} has no Ethernet MAC address; VRRP needs an Ethernet interface")]
    NoEthernetAddress(String),

    /// The name chosen for a vmac belongs to an interface vipd did not create.
    #[error(
        "cannot create vmac {name}: an interface with that name exists and was not \
         created by vipd; choose another vmac name, or delete it (`ip link del {name}`) \
         if it is a leftover"
    )]
    VmacNameTaken { name: String },

    /// A VIP or vmac description that the kernel would refuse or misread.
    #[error("{0}")]
    Invalid(String),

    /// Any other refusal by the kernel, with its errno.
    #[error("{action}: {source}")]
    Kernel {
        action: String,
        #[source]
        source: io::Error,
    },

    /// The netlink connection task ended (it only does when its socket fails).
    #[error("{action}: the netlink connection is closed")]
    ConnectionClosed { action: String },
}

impl NetlinkError {
    /// The errno the kernel answered with, if this error came from the kernel.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { source, .. } => source.raw_os_error(),
            Self::PermissionDenied { .. } => Some(libc::EPERM),
            _ => None,
        }
    }

    /// Builds the error for a failed request. `interface` names the interface
    /// the request was about, so that ENODEV reads "interface eth9 not found".
    pub(super) fn from_rtnetlink(
        error: rtnetlink::Error,
        action: impl Into<String>,
        interface: &str,
    ) -> Self {
        let action = action.into();
        match error {
            rtnetlink::Error::NetlinkError(message) => {
                let errno = message.raw_code().abs();
                match errno {
                    libc::EPERM | libc::EACCES => Self::PermissionDenied { action },
                    libc::ENODEV => Self::InterfaceNotFound(interface.to_owned()),
                    _ => Self::Kernel {
                        action,
                        source: io::Error::from_raw_os_error(errno),
                    },
                }
            }
            rtnetlink::Error::RequestFailed => Self::ConnectionClosed { action },
            other => Self::Kernel {
                action,
                source: io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_core::ErrorMessage;
    use std::num::NonZeroI32;

    fn kernel_refusal(errno: i32) -> rtnetlink::Error {
        let mut message = ErrorMessage::default();
        message.code = NonZeroI32::new(-errno);
        rtnetlink::Error::NetlinkError(message)
    }

    #[test]
    fn permission_denied_says_which_capability_is_missing() {
        let error = NetlinkError::from_rtnetlink(
            kernel_refusal(libc::EPERM),
            "adding 192.0.2.10/24 to eth0",
            "eth0",
        );
        assert_eq!(
            error.to_string(),
            "adding 192.0.2.10/24 to eth0: permission denied (vipd needs CAP_NET_ADMIN)"
        );
        assert_eq!(error.errno(), Some(libc::EPERM));
    }

    #[test]
    fn missing_device_names_the_interface() {
        let error =
            NetlinkError::from_rtnetlink(kernel_refusal(libc::ENODEV), "looking up eth9", "eth9");
        assert_eq!(error.to_string(), "interface eth9 not found");
    }

    #[test]
    fn other_errnos_keep_the_action_and_the_kernel_reason() {
        let error = NetlinkError::from_rtnetlink(
            kernel_refusal(libc::EINVAL),
            "adding 192.0.2.10/24 to eth0",
            "eth0",
        );
        assert!(error
            .to_string()
            .starts_with("adding 192.0.2.10/24 to eth0: Invalid argument"));
        assert_eq!(error.errno(), Some(libc::EINVAL));
    }
}
