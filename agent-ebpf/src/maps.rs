//! The maps this program shares with user space. Names and value layouts come from
//! `agent-common` so both sides agree on them.
use agent_common::ADVERTS_RING_BYTES;
use aya_ebpf::{macros::map, maps::RingBuf};

/// Ring buffer of `agent_common::AdvertRecord`s, one per advert seen.
#[map(name = "ADVERTS")]
pub static ADVERTS: RingBuf = RingBuf::with_byte_size(ADVERTS_RING_BYTES, 0);
