//! An instance's adverts as bytes, one per destination, kept from one advert to the next.
//!
//! A master sends the same advert every interval (every 100-200 us in fast mode): only the
//! priority can change while the instance runs, since its addresses and interval change only on
//! reload, which builds a new runtime with a new cache. So the bytes are emitted again only when
//! the priority differs from the last advert's, and sending is then a copy-free sendmsg(2).
//!
//! With auth_hmac every advert needs a fresh sequence number and MAC: the message stays cached,
//! and each send signs it once (one HMAC for all destinations, the MAC does not cover the
//! destination), copies the trailer behind each buffer and, over IPv6, where the checksum
//! covers the trailer, rewrites the checksum.
//!
//! With `auth_type AH` the socket sends whole IPv4 packets: each send wraps the cached message
//! in an IP and AH header with a fresh IP identification, sequence number and ICV.
use std::net::IpAddr;
use std::time::SystemTime;

use crate::vrrp::{
    wire::{trailer::seal_ipv6_checksum, trailer::TRAILER_LEN, EmitError, Packet},
    Router,
};

#[derive(Default)]
pub struct AdvertBytes {
    /// The priority the buffers carry and whether they have room for a trailer; `None` until
    /// the first emit succeeded.
    emitted: Option<(u8, bool)>,
    /// The length of the VRRP message, before any trailer.
    message_len: usize,
    /// One advert per destination, in the order of the destinations.
    packets: Vec<Vec<u8>>,
    /// With `auth_type AH`: the IPv4 packets of the last send, one per destination.
    sealed: Vec<Vec<u8>>,
}

impl AdvertBytes {
    /// The advert of `router` with `priority`, from its primary address to each of
    /// `destinations` in turn (the same list every call), signed at wall-clock time `wall`
    /// when the router signs.
    pub fn get(
        &mut self,
        router: &mut Router,
        destinations: &[IpAddr],
        priority: u8,
        wall: SystemTime,
    ) -> Result<&[Vec<u8>], EmitError> {
        let signed = router.signs_adverts();
        if self.emitted != Some((priority, signed)) || self.packets.len() != destinations.len() {
            self.emitted = None;
            let advert = router.advert(priority);
            let config = router.config();
            self.message_len = advert.buffer_len();
            let trailer = if signed { TRAILER_LEN } else { 0 };
            self.packets.resize_with(destinations.len(), Vec::new);
            for (bytes, &destination) in self.packets.iter_mut().zip(destinations) {
                bytes.clear();
                bytes.resize(self.message_len + trailer, 0);
                advert.emit(
                    &mut Packet::new_unchecked(&mut bytes[..self.message_len]),
                    config.primary_address,
                    destination,
                    config.v3_ipv4_checksum,
                )?;
            }
            self.emitted = Some((priority, signed));
        }
        if let Some(first) = self.packets.first().filter(|_| router.wraps_in_ah()) {
            self.sealed.resize_with(destinations.len(), Vec::new);
            router.seal_ah_advert(&first[..self.message_len], destinations, &mut self.sealed);
            return Ok(&self.sealed);
        }
        if let Some(first) = self.packets.first().filter(|_| signed) {
            let Some(trailer) = router.sign_advert(wall, &first[..self.message_len]) else {
                return Ok(&self.packets);
            };
            let src = router.config().primary_address;
            for (bytes, &destination) in self.packets.iter_mut().zip(destinations) {
                bytes[self.message_len..].copy_from_slice(&trailer);
                if let (IpAddr::V6(src), IpAddr::V6(dst)) = (src, destination) {
                    seal_ipv6_checksum(bytes, src, dst);
                }
            }
        }
        Ok(&self.packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::{wire::VRRP_GROUP_V4, RouterConfig};

    #[test]
    fn bytes_match_a_fresh_emit_and_follow_the_priority() {
        let config = RouterConfig::v3(
            7,
            100,
            "192.0.2.1".parse().unwrap(),
            vec!["192.0.2.100".parse().unwrap()],
        );
        let mut router = Router::new(config).unwrap();
        let destinations = [IpAddr::V4(VRRP_GROUP_V4)];
        let mut cache = AdvertBytes::default();
        for priority in [100, 100, 0, 100] {
            let fresh = router
                .advert(priority)
                .emit_to_vec(
                    router.config().primary_address,
                    destinations[0],
                    router.config().v3_ipv4_checksum,
                )
                .unwrap();
            let cached = cache
                .get(&mut router, &destinations, priority, SystemTime::UNIX_EPOCH)
                .unwrap();
            assert_eq!(cached, [fresh]);
        }
    }

    mod auth_hmac {
        use super::*;
        use crate::vrrp::auth_hmac::{AntiReplay, AuthHmacConfig, Key, Mode};
        use crate::vrrp::wire::{trailer::TRAILER_LEN, AdvertRepr, Packet};
        use crate::vrrp::{DropReason, Instant, RxMeta, State};
        use std::time::Duration;

        fn auth() -> AuthHmacConfig {
            AuthHmacConfig {
                keys: vec![Key::new(1, vec![7; 32]).unwrap()],
                active_key: 1,
                mode: Mode::Enforce,
                anti_replay: AntiReplay::Time,
                time_window_secs: 5,
            }
        }

        fn pair(primaries: [&str; 2], vip: &str, group: &str) -> (Router, Router, IpAddr) {
            let routers = primaries.map(|p| {
                let mut c =
                    RouterConfig::v3(7, 100, p.parse().unwrap(), vec![vip.parse().unwrap()]);
                c.auth_hmac = Some(auth());
                Router::new(c).unwrap()
            });
            let [a, b] = routers;
            (a, b, group.parse().unwrap())
        }

        fn meta(src: &Router, dst: IpAddr) -> RxMeta {
            RxMeta {
                src: src.config().primary_address,
                dst,
                ttl: 255,
            }
        }

        /// Signed adverts from the cache verify at a peer, each with a fresh sequence, over
        /// IPv4 (checksum over the message) and IPv6 (checksum over the trailer too); the
        /// same bytes again are a replay.
        #[test]
        fn every_advert_is_signed_afresh_and_verifies_at_a_peer() {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            for (primaries, vip, group) in [
                (["192.0.2.1", "192.0.2.2"], "192.0.2.100", "224.0.0.18"),
                (["fe80::1", "fe80::2"], "2001:db8::100", "ff02::12"),
            ] {
                let (mut sender, mut receiver, group) = pair(primaries, vip, group);
                let mut cache = AdvertBytes::default();
                let mut sent = Vec::new();
                for _ in 0..3 {
                    let bytes = cache.get(&mut sender, &[group], 100, now).unwrap()[0].clone();
                    let message_len = bytes.len() - TRAILER_LEN;
                    // The message is what the router emits; only the checksum may differ.
                    let plain = sender
                        .advert(100)
                        .emit_to_vec(
                            sender.config().primary_address,
                            group,
                            sender.config().v3_ipv4_checksum,
                        )
                        .unwrap();
                    assert_eq!(bytes[..6], plain[..6]);
                    assert_eq!(bytes[8..message_len], plain[8..]);
                    let m = meta(&sender, group);
                    assert!(receiver.validate(&m, &bytes, now).is_ok(), "{group}");
                    assert!(!sent.contains(&bytes), "a fresh trailer each time");
                    sent.push(bytes);
                }
                let m = meta(&sender, group);
                assert_eq!(
                    receiver.validate(&m, &sent[0], now),
                    Err(DropReason::AuthReplay)
                );
                assert_eq!(receiver.drop_counters().get(DropReason::AuthReplay), 1);
            }
        }

        /// A forged advert with a correct checksum but no trailer, or a trailer whose MAC was
        /// made with another key, is dropped and counted.
        #[test]
        fn forged_adverts_are_dropped_by_reason() {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            let (sender, mut receiver, group) =
                pair(["192.0.2.1", "192.0.2.2"], "192.0.2.100", "224.0.0.18");
            let m = meta(&sender, group);
            let forged = sender
                .advert(255)
                .emit_to_vec(m.src, group, sender.config().v3_ipv4_checksum)
                .unwrap();
            assert!(
                AdvertRepr::parse(&Packet::new_checked(&forged[..]).unwrap(), m.src, group).is_ok(),
                "the checksum is right"
            );
            assert_eq!(
                receiver.validate(&m, &forged, now),
                Err(DropReason::AuthMissingTrailer)
            );

            let mut other_key = sender.config().clone();
            other_key.auth_hmac.as_mut().unwrap().keys = vec![Key::new(1, vec![8; 32]).unwrap()];
            let mut impostor = Router::new(other_key).unwrap();
            let bytes = AdvertBytes::default()
                .get(&mut impostor, &[group], 255, now)
                .unwrap()[0]
                .clone();
            assert_eq!(
                receiver.validate(&m, &bytes, now),
                Err(DropReason::AuthBadMac)
            );
            let late = now + Duration::from_secs(6);
            let (mut sender, _, _) = pair(["192.0.2.1", "192.0.2.2"], "192.0.2.100", "224.0.0.18");
            let bytes = AdvertBytes::default()
                .get(&mut sender, &[group], 100, now)
                .unwrap()[0]
                .clone();
            assert_eq!(
                receiver.validate(&m, &bytes, late),
                Err(DropReason::AuthOutsideWindow)
            );
            for reason in [
                DropReason::AuthMissingTrailer,
                DropReason::AuthBadMac,
                DropReason::AuthOutsideWindow,
            ] {
                assert_eq!(receiver.drop_counters().get(reason), 1, "{reason:?}");
            }
        }

        /// Receive-only sends plain adverts and accepts them; what it receives signed must
        /// still verify.
        #[test]
        fn receive_only_sends_no_trailer() {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            let (mut sender, mut receiver, group) =
                pair(["192.0.2.1", "192.0.2.2"], "192.0.2.100", "224.0.0.18");
            let mut c = sender.config().clone();
            c.auth_hmac.as_mut().unwrap().mode = Mode::ReceiveOnly;
            sender.reconfigure(Instant::ZERO, c).unwrap();
            let bytes = AdvertBytes::default()
                .get(&mut sender, &[group], 100, now)
                .unwrap()[0]
                .clone();
            assert_eq!(bytes.len(), sender.advert(100).buffer_len());
            let mut c = receiver.config().clone();
            c.auth_hmac.as_mut().unwrap().mode = Mode::ReceiveOnly;
            receiver.reconfigure(Instant::ZERO, c).unwrap();
            assert!(receiver
                .validate(&meta(&sender, group), &bytes, now)
                .is_ok());
        }

        /// The XDP program's records and the echo carry no MAC: with auth_hmac they keep no
        /// master alive. The dataplane still learns which master is followed (its adverts are
        /// exempt from the news allowance), and that the VRID is authenticated and enforced, so
        /// it records none and drops the unsigned (see `InstanceRuntime::xdp_policy`).
        #[test]
        fn unauthenticated_liveness_signals_count_for_nothing() {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            let (mut master, mut backup, group) =
                pair(["192.0.2.1", "192.0.2.2"], "192.0.2.100", "224.0.0.18");
            let mut c = master.config().clone();
            c.priority = 200;
            master.reconfigure(Instant::ZERO, c).unwrap();
            backup.set_echo(true);
            assert!(!backup.echo_carried(), "no echo with auth_hmac");
            backup.handle_startup(Instant::ZERO);
            let bytes = AdvertBytes::default()
                .get(&mut master, &[group], 200, now)
                .unwrap()[0]
                .clone();
            let advert = backup.validate(&meta(&master, group), &bytes, now).unwrap();
            backup.handle_advert(Instant::from_micros(1_000), &advert);
            assert_eq!(backup.state(), State::Backup);
            let src = master.config().primary_address;
            assert_eq!(backup.followed_master(), Some((src, 200)));
            assert!(backup.authenticates() && backup.requires_trailer());
            // Records every 100 ms for 10 s: without the core's gate they would hold the
            // master (down after about 3.6 s) alive all along.
            for i in 1..=100 {
                let at = Instant::from_micros(1_000 + i * 100_000);
                assert!(!backup.handle_master_seen(at, src, 200, [2, 0, 0, 0, 0, 1]));
                assert!(!backup.handle_echo(at));
                backup.handle_timeout(at);
            }
            assert_eq!(
                backup.state(),
                State::Master,
                "only a verified advert keeps a master alive"
            );
        }
    }
}
