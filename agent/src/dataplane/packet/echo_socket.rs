//! The AF_PACKET socket a backup sends its liveness-echo probes from (see
//! `agent_common::ETH_P_VIPD_ECHO`): one frame per advert interval, unicast to the master's MAC,
//! from this interface's own MAC so that the master's XDP program reflects it back here.
use crate::family::IpFamily;
use std::io;

use agent_common::{echo_kind, ECHO_MAGIC, ETH_P_VIPD_ECHO};
use socket2::Socket;

use super::{
    announce_socket::{link_address, send_only_link_socket},
    interface::InterfaceInfo,
    PacketError,
};

/// Ethernet's minimum frame without its checksum; shorter frames are padded with zeros.
const ETH_MIN_FRAME: usize = 60;

pub struct EchoSocket {
    socket: Socket,
    ifindex: u32,
    mac: [u8; 6],
}

impl EchoSocket {
    /// Opens the socket on `interface` (the VRRP interface itself, never a virtual MAC).
    pub fn open(interface: &str) -> Result<EchoSocket, PacketError> {
        let info = InterfaceInfo::lookup(interface)?;
        let mac = info.mac.ok_or_else(|| PacketError::NoMacAddress {
            interface: interface.to_owned(),
        })?;
        let socket = send_only_link_socket(info.index).map_err(PacketError::io(
            interface,
            "opening an AF_PACKET socket for echoes",
        ))?;
        Ok(EchoSocket {
            socket,
            ifindex: info.index,
            mac,
        })
    }

    /// Sends probe `seq` for `vrid` / `family` to the master at `master_mac`.
    pub fn send_probe(
        &self,
        master_mac: [u8; 6],
        vrid: u8,
        ip_family: IpFamily,
        seq: u32,
    ) -> io::Result<()> {
        let frame = probe_frame(self.mac, master_mac, vrid, ip_family, seq);
        self.socket
            .send_to(
                &frame,
                &link_address(self.ifindex, ETH_P_VIPD_ECHO, master_mac),
            )
            .map(|_| ())
    }
}

/// An echo probe frame, padded to Ethernet's minimum size.
pub fn probe_frame(
    own_mac: [u8; 6],
    master_mac: [u8; 6],
    vrid: u8,
    ip_family: IpFamily,
    seq: u32,
) -> [u8; ETH_MIN_FRAME] {
    let mut frame = [0u8; ETH_MIN_FRAME];
    frame[..6].copy_from_slice(&master_mac);
    frame[6..12].copy_from_slice(&own_mac);
    frame[12..14].copy_from_slice(&ETH_P_VIPD_ECHO.to_be_bytes());
    // The agent_common::EchoFrame layout.
    frame[14..18].copy_from_slice(&ECHO_MAGIC);
    frame[18] = echo_kind::PROBE;
    frame[19] = vrid;
    frame[20] = ip_family.code();
    frame[22..26].copy_from_slice(&seq.to_be_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_frame_bytes() {
        let frame = probe_frame([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 51, IpFamily::V4, 7);
        assert_eq!(
            &frame[..26],
            &[
                2, 0, 0, 0, 0, 1, // to the master
                2, 0, 0, 0, 0, 2, // from us
                0x88, 0xb5, // vipd echo
                b'v', b'i', b'p', b'd', 1, 51, 4, 0, // probe, VRID 51, IPv4
                0, 0, 0, 7, // seq
            ]
        );
        assert!(frame[26..].iter().all(|b| *b == 0));
    }
}
