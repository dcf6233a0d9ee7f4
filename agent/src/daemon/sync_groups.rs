//! Sync groups' notifications: a group announces a state (keepalived's `GROUP name STATE`) when
//! all its members have reached it. Faults are synchronised by the health supervisor (a fault of
//! one member faults every member); MASTER and BACKUP follow from the members' own elections,
//! which agree when they share peers and priorities, as a group's members usually do.
use std::collections::HashMap;

use crate::{config::model::Config, notify::NotifyState};

#[derive(Debug)]
struct Group {
    name: String,
    members: Vec<String>,
    states: HashMap<String, NotifyState>,
    announced: Option<NotifyState>,
}

#[derive(Debug, Default)]
pub struct SyncGroups {
    groups: Vec<Group>,
}

impl SyncGroups {
    pub fn new(config: &Config) -> Self {
        Self {
            groups: config
                .sync_groups
                .iter()
                .map(|g| Group {
                    name: g.name.clone(),
                    members: g.instances.clone(),
                    states: HashMap::new(),
                    announced: None,
                })
                .collect(),
        }
    }

    /// Records that `instance` is now in `state`; returns the groups that now announce a state.
    pub fn record(&mut self, instance: &str, state: NotifyState) -> Vec<(String, NotifyState)> {
        let mut announce = Vec::new();
        for group in &mut self.groups {
            if !group.members.iter().any(|m| m == instance) {
                continue;
            }
            group.states.insert(instance.to_string(), state);
            let unanimous = group
                .members
                .iter()
                .all(|m| group.states.get(m) == Some(&state));
            if unanimous && group.announced != Some(state) {
                group.announced = Some(state);
                announce.push((group.name.clone(), state));
            }
        }
        announce
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::fixtures::{self, SYNC_GROUP};

    #[test]
    fn a_group_announces_when_all_members_agree_once() {
        let config = fixtures::config(SYNC_GROUP);
        let mut groups = SyncGroups::new(&config);
        assert_eq!(groups.record("a", NotifyState::Master), vec![]);
        assert_eq!(
            groups.record("b", NotifyState::Master),
            vec![("g".to_string(), NotifyState::Master)]
        );
        assert_eq!(
            groups.record("b", NotifyState::Master),
            vec![],
            "announced once"
        );
        assert_eq!(groups.record("a", NotifyState::Fault), vec![]);
        assert_eq!(
            groups.record("b", NotifyState::Fault),
            vec![("g".to_string(), NotifyState::Fault)]
        );
    }
}
