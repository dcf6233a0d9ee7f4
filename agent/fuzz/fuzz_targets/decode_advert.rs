//! Fuzz the VRRP decoder: any bytes, from any source, must decode or be refused without a
//! panic, and whatever decodes must re-encode to a message that decodes to the same advert
//! (and, unless it is VRRPv2 without auth or with IPsec AH, whose ignored auth data is zeroed
//! on emission, to the very same bytes, except that a received checksum of 0xffff may come back as 0x0000:
//! both are zero in ones-complement and both verify).
//!
//! Run: `cd agent/fuzz && cargo +nightly fuzz run decode_advert`.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vipd::vrrp::wire::{AdvertRepr, Packet, V2Auth, V3Ipv4Checksum};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the family and the IP addresses for the pseudo-header.
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    let (src, dst) = if selector & 1 == 0 {
        (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, selector)),
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
        )
    } else {
        (
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(selector))),
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
        )
    };
    let Ok(packet) = Packet::new_checked(message) else {
        return;
    };
    let _ = packet.vrid();
    let Ok(parsed) = AdvertRepr::parse(&packet, src, dst) else {
        return;
    };
    let choice = V3Ipv4Checksum::from(parsed.checksum);
    let bytes = parsed
        .repr
        .emit_to_vec(src, dst, choice)
        .expect("a parsed advert must be emittable");
    let again = AdvertRepr::parse(&Packet::new_checked(&bytes[..]).unwrap(), src, dst)
        .expect("an emitted advert must parse");
    assert_eq!(again.repr, parsed.repr);
    // Auth data means nothing without auth (type 0) and with IPsec AH (type 2, whose header
    // carries the ICV instead): a receiver ignores it, and vipd sends it zeroed.
    let auth_data_ignored = matches!(
        &parsed.repr,
        AdvertRepr::V2(a) if matches!(a.auth, V2Auth::None | V2Auth::IpsecAh)
    );
    if !auth_data_ignored {
        assert_eq!(bytes[..6], message[..6]);
        assert_eq!(bytes[8..], message[8..]);
        let sent = u16::from_be_bytes([message[6], message[7]]);
        let ours = u16::from_be_bytes([bytes[6], bytes[7]]);
        assert!(
            sent == ours || (sent == 0xffff && ours == 0),
            "{sent:#x} vs {ours:#x}"
        );
    }
});
