//! keepalived's `auth_type AH`, sans-IO: the key of one instance and its run-time state, the
//! sequence counter and the IP identification of the adverts it sends.
//!
//! keepalived keeps one sequence counter per instance for both directions, and vipd keeps the
//! same rules, since a peer's acceptance depends on them:
//! - an advert is accepted only if its sequence number is strictly above the counter, which
//!   then takes that number (the anti-replay check; SPI and ICV are checked before);
//! - each advert sent increments the counter first and carries it, so a backup that becomes
//!   master continues above the master it heard, and its peers, whose counters followed the old
//!   master, accept it;
//! - a master that hears a lower-priority router's advert sets its counter to that advert's
//!   sequence number plus one (keepalived's "Syncing seq_num"): the lower router has been
//!   sending, so it expects numbers above its own;
//! - above 0xFFFFFFFD the counter stops (its adverts then repeat a number and are refused, so
//!   the others take over) and starts again from 0 when this router next becomes master.
//!
//! The wire format is [`super::wire::ah`].

use std::net::Ipv4Addr;

use super::wire::ah::{self, AhEmit, AhError, AhKey, AhPacket, Delivery};

/// The highest sequence number the counter moves to before it stops (keepalived's limit).
const SEQUENCE_LIMIT: u32 = 0xFFFF_FFFD;

/// Why an AH-wrapped advert was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AhCheckError {
    #[error(transparent)]
    Wire(#[from] AhError),
    #[error("AH sequence number not above the last one accepted (a replayed advert)")]
    Replay,
}

/// The AH state of one instance.
#[derive(Debug, Clone)]
pub struct AhAuthenticator {
    key: AhKey,
    delivery: Delivery,
    sequence: u32,
    /// The counter passed [`SEQUENCE_LIMIT`]; reset on becoming master.
    cycled: bool,
    /// The last IP identification sent; 0 only before the first advert.
    ip_id: u16,
}

impl AhAuthenticator {
    pub fn new(key: AhKey, delivery: Delivery) -> Self {
        AhAuthenticator {
            key,
            delivery,
            sequence: 0,
            cycled: false,
            ip_id: 0,
        }
    }

    /// A new key or delivery on reload; the counters stay, as keepalived keeps them.
    pub fn reconfigure(&mut self, key: AhKey, delivery: Delivery) {
        self.key = key;
        self.delivery = delivery;
    }

    /// Verify a received packet and move the counter. Returns the VRRP message.
    pub fn verify<'a>(&mut self, packet: &AhPacket<'a>) -> Result<&'a [u8], AhCheckError> {
        packet.verify(&self.key, self.delivery)?;
        if packet.ah.sequence <= self.sequence {
            return Err(AhCheckError::Replay);
        }
        self.sequence = packet.ah.sequence;
        self.cycled = false;
        Ok(packet.message)
    }

    /// Heard a lower-priority router while master: continue above its numbers.
    pub fn follow_lower(&mut self, their_sequence: u32) {
        self.sequence = their_sequence.wrapping_add(1);
        self.cycled = false;
    }

    /// Becoming master: a counter that stopped starts again.
    pub fn become_master(&mut self) {
        if self.cycled {
            self.cycled = false;
            self.sequence = 0;
        }
    }

    /// The next advert's IP identification and sequence number: one pair per advert, shared by
    /// every destination of a unicast advert.
    pub fn next_advert(&mut self) -> (u16, u32) {
        self.ip_id = self.ip_id.wrapping_add(1).max(1);
        if self.sequence > SEQUENCE_LIMIT {
            self.cycled = true;
        } else {
            self.sequence += 1;
        }
        (self.ip_id, self.sequence)
    }

    /// Write the IPv4 packet of `message` from `src` to `dst` with the pair
    /// [`AhAuthenticator::next_advert`] gave into `buf` ([`ah::packet_len`] bytes).
    pub fn seal(
        &self,
        buf: &mut [u8],
        (id, sequence): (u16, u32),
        src: Ipv4Addr,
        dst: Ipv4Addr,
        message: &[u8],
    ) {
        let emit = AhEmit {
            src,
            dst,
            id,
            ttl: 255,
            sequence,
            delivery: self.delivery,
        };
        ah::emit(buf, &self.key, &emit, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const GROUP: Ipv4Addr = crate::vrrp::wire::VRRP_GROUP_V4;
    const MESSAGE: [u8; 20] = [
        0x21, 0x3b, 0x96, 0x01, 0x02, 0x01, 0x84, 0x5d, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    fn key() -> AhKey {
        AhKey::new(*b"secret12")
    }

    fn packet(sender: &mut AhAuthenticator) -> Vec<u8> {
        let mut buf = vec![0; ah::packet_len(MESSAGE.len())];
        let pair = sender.next_advert();
        sender.seal(&mut buf, pair, SRC, GROUP, &MESSAGE);
        buf
    }

    #[test]
    fn sequence_must_grow_and_the_counter_follows_what_it_accepted() {
        let mut sender = AhAuthenticator::new(key(), Delivery::Multicast);
        let mut receiver = AhAuthenticator::new(key(), Delivery::Multicast);
        let first = packet(&mut sender);
        let second = packet(&mut sender);
        let check = |r: &mut AhAuthenticator, p: &[u8]| {
            r.verify(&AhPacket::split(p).unwrap()).map(<[u8]>::to_vec)
        };
        assert_eq!(check(&mut receiver, &second), Ok(MESSAGE.to_vec()));
        assert_eq!(check(&mut receiver, &first), Err(AhCheckError::Replay));
        assert_eq!(check(&mut receiver, &second), Err(AhCheckError::Replay));
        // The receiver, become master, continues above what it heard.
        assert_eq!(receiver.next_advert(), (1, 3));
    }

    #[test]
    fn a_forged_packet_does_not_move_the_counter() {
        let mut sender = AhAuthenticator::new(AhKey::new(*b"wrongpw\0"), Delivery::Multicast);
        let mut receiver = AhAuthenticator::new(key(), Delivery::Multicast);
        let forged = packet(&mut sender);
        assert_eq!(
            receiver.verify(&AhPacket::split(&forged).unwrap()),
            Err(AhCheckError::Wire(AhError::BadIcv))
        );
        assert_eq!(receiver.next_advert().1, 1);
    }

    #[test]
    fn a_master_continues_above_a_lower_router() {
        let mut master = AhAuthenticator::new(key(), Delivery::Multicast);
        master.follow_lower(41);
        assert_eq!(master.next_advert().1, 43);
    }

    #[test]
    fn the_counter_stops_at_the_limit_and_restarts_on_becoming_master() {
        let mut router = AhAuthenticator::new(key(), Delivery::Multicast);
        router.follow_lower(SEQUENCE_LIMIT);
        assert_eq!(router.next_advert().1, SEQUENCE_LIMIT + 1);
        assert_eq!(router.next_advert().1, SEQUENCE_LIMIT + 1);
        router.become_master();
        assert_eq!(router.next_advert().1, 1);
    }

    #[test]
    fn ip_identification_counts_from_one_and_skips_zero() {
        let mut router = AhAuthenticator::new(key(), Delivery::Multicast);
        assert_eq!(router.next_advert().0, 1);
        router.ip_id = u16::MAX;
        assert_eq!(router.next_advert().0, 1);
    }
}
