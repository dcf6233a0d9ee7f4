//! An instance's adverts as bytes, one per destination, kept from one advert to the next.
//!
//! A master sends the same advert every interval (every 100-200 us in fast mode): only the
//! priority can change while the instance runs, since its addresses and interval change only on
//! reload, which builds a new runtime with a new cache. So the bytes are emitted again only when
//! the priority differs from the last advert's, and sending is then a copy-free sendmsg(2).
use std::net::IpAddr;

use crate::vrrp::{
    wire::{EmitError, Packet},
    Router,
};

#[derive(Default)]
pub struct AdvertBytes {
    /// The priority the buffers carry; `None` until the first emit succeeded.
    priority: Option<u8>,
    /// One advert per destination, in the order of the destinations.
    packets: Vec<Vec<u8>>,
}

impl AdvertBytes {
    /// The advert of `router` with `priority`, from its primary address to each of
    /// `destinations` in turn (the same list every call).
    pub fn get(
        &mut self,
        router: &Router,
        destinations: &[IpAddr],
        priority: u8,
    ) -> Result<&[Vec<u8>], EmitError> {
        if self.priority != Some(priority) || self.packets.len() != destinations.len() {
            self.priority = None;
            let advert = router.advert(priority);
            let config = router.config();
            self.packets.resize_with(destinations.len(), Vec::new);
            for (bytes, &destination) in self.packets.iter_mut().zip(destinations) {
                bytes.clear();
                bytes.resize(advert.buffer_len(), 0);
                advert.emit(
                    &mut Packet::new_unchecked(bytes.as_mut_slice()),
                    config.primary_address,
                    destination,
                    config.v3_ipv4_checksum,
                )?;
            }
            self.priority = Some(priority);
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
        let router = Router::new(config).unwrap();
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
            let cached = cache.get(&router, &destinations, priority).unwrap();
            assert_eq!(cached, [fresh]);
        }
    }
}
