//! The XDP program's counters as user space holds them: one value per row of
//! [`agent_common::XDP_COUNTERS`], the table the program counts by. Status, `vipd status` and
//! the metrics all walk that table through [`XdpCounters::iter`], so a counter added there
//! reaches all of them without another list to keep in step.
use std::{collections::BTreeMap, fmt};

use agent_common::{counter, CounterSpec, XDP_COUNTERS};
use serde::{ser::SerializeMap, Deserialize, Deserializer, Serialize, Serializer};

const COUNT: usize = counter::COUNT as usize;

/// Every counter of the program, summed over CPUs (and interfaces: the map is one per program).
///
/// In the status JSON it is an object keyed by [`CounterSpec::name`]. Reading ignores names it
/// does not know and takes a missing one as zero, so clients and daemons of different versions
/// still understand each other.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct XdpCounters([u64; COUNT]);

impl XdpCounters {
    /// The value of counter `index` (an [`agent_common::counter`] constant).
    pub fn get(&self, index: u32) -> u64 {
        self.0[index as usize]
    }

    /// Every counter with its description, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static CounterSpec, u64)> + '_ {
        XDP_COUNTERS.iter().zip(self.0.iter().copied())
    }
}

impl Default for XdpCounters {
    fn default() -> Self {
        Self([0; COUNT])
    }
}

/// Values in index order, as read from the map.
impl From<[u64; COUNT]> for XdpCounters {
    fn from(values: [u64; COUNT]) -> Self {
        Self(values)
    }
}

impl fmt::Debug for XdpCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(spec, value)| (spec.name, value)))
            .finish()
    }
}

impl Serialize for XdpCounters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(COUNT))?;
        for (spec, value) in self.iter() {
            map.serialize_entry(spec.name, &value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for XdpCounters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let by_name = BTreeMap::<String, u64>::deserialize(deserializer)?;
        let mut values = [0; COUNT];
        for (value, spec) in values.iter_mut().zip(&XDP_COUNTERS) {
            *value = by_name.get(spec.name).copied().unwrap_or(0);
        }
        Ok(Self(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fixtures::numbered_xdp_counters;

    #[test]
    fn reads_back_what_it_writes() {
        let counters = numbered_xdp_counters();
        let json = serde_json::to_string(&counters).unwrap();
        assert_eq!(
            serde_json::from_str::<XdpCounters>(&json).unwrap(),
            counters
        );
    }

    /// The status keys a daemon before the shared table wrote still read back, and names this
    /// build does not know are skipped.
    #[test]
    fn reads_older_and_newer_daemons() {
        let old = r#"{"adverts_recorded":3,"dropped":2,"passed":1,"from_the_future":9}"#;
        let counters: XdpCounters = serde_json::from_str(old).unwrap();
        assert_eq!(counters.get(counter::ADVERTS_RECORDED), 3);
        assert_eq!(counters.get(counter::ADVERTS_DROPPED), 2);
        assert_eq!(counters.get(counter::PASSED), 1);
        assert_eq!(counters.get(counter::RING_FULL), 0);
    }
}
