//! `vrrp_sync_group` blocks: the instances that change state together and the group's notify
//! commands. The group's `track_bfd` goes to every member, as in keepalived; other tracking at
//! group level is keepalived-specific and warned about.

use super::Importer;
use crate::config::diagnostic::{FieldPath, Item};
use crate::config::keepalived::syntax::{arity_in, Arity, Statement, Word};
use crate::config::model::{Config, NotifyCommands, SyncGroup, TrackedBfd, Weight};

/// The keywords of this block and how many values each takes.
pub(super) const KEYWORDS: &[(&str, Arity)] = &[
    ("group", Arity::Fixed(0)),
    ("track_interface", Arity::Fixed(0)),
    ("track_script", Arity::Fixed(0)),
    ("track_file", Arity::Fixed(0)),
    ("track_process", Arity::Fixed(0)),
    ("track_bfd", Arity::Fixed(0)),
    ("global_tracking", Arity::Fixed(0)),
    ("smtp_alert", Arity::Optional),
    ("notify_priority_changes", Arity::Optional),
    ("sync_group_tracking_weight", Arity::Optional),
    ("notify", Arity::Rest),
    ("notify_master", Arity::Rest),
    ("notify_backup", Arity::Rest),
    ("notify_fault", Arity::Rest),
    ("notify_stop", Arity::Rest),
];

fn arity(keyword: &str) -> Option<Arity> {
    arity_in(KEYWORDS, keyword)
}

impl Importer<'_> {
    pub(super) fn vrrp_sync_group(&mut self, statement: &Statement) {
        let Some((name, block)) = self.named_block(statement) else {
            return;
        };
        let item = Item::SyncGroup(self.config.sync_groups.len());
        // Recorded only if the group is kept.
        let mut places = Vec::new();
        let mut group = SyncGroup {
            name: name.text.clone(),
            instances: Vec::new(),
            notify: NotifyCommands::default(),
        };
        let context = format!("vrrp_sync_group {}", name.text);
        let mut track_bfd = Vec::new();
        for s in self.statements(block, arity, &context, true) {
            match s.name() {
                "group" => {
                    let Some(members) = self.block_of(&s) else { continue };
                    places.push((FieldPath::key(item, "instances"), s.keyword.origin));
                    for line in members {
                        for member in line.words() {
                            if !self.config.instances.iter().any(|i| i.name == member.text) {
                                self.warn(
                                    member.origin,
                                    format!("`{}` is not a vrrp_instance: left out of sync group {}, as keepalived does", member.text, group.name),
                                );
                                continue;
                            }
                            let index = group.instances.len();
                            let path = FieldPath::element(item, "instances", index);
                            places.push((path, member.origin));
                            group.instances.push(member.text.clone());
                        }
                    }
                }
                "notify" | "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" => {
                    let Some(command) = self.notify_command(&s) else { continue };
                    let slot = match s.name() {
                        "notify" => &mut group.notify.any,
                        "notify_master" => &mut group.notify.master,
                        "notify_backup" => &mut group.notify.backup,
                        "notify_fault" => &mut group.notify.fault,
                        _ => &mut group.notify.stop,
                    };
                    *slot = Some(command);
                }
                "track_bfd" => {
                    let Some(block) = self.block_of(&s) else { continue };
                    track_bfd.extend(self.track_bfd_block(block));
                }
                other => self.warn(
                    s.keyword.origin,
                    format!("`{other}` is ignored in a sync group: track objects in each instance instead"),
                ),
            }
        }
        if group.instances.is_empty() {
            self.warn(
                statement.keyword.origin,
                format!(
                    "vrrp_sync_group {} has no instances: left out, as keepalived does",
                    group.name
                ),
            );
            return;
        }
        self.group_track_bfd(&group, track_bfd);
        self.item_at(item, statement, name);
        for (path, origin) in places {
            self.record(path, origin);
        }
        self.config.sync_groups.push(group);
    }

    /// keepalived applies a group's `track_bfd` to every member (vrrp.c,
    /// `add_vrrp_to_track_bfd`): a member tracking the same session already takes the group's
    /// weight unless its own is 0 (FAULT while down), which stays.
    fn group_track_bfd(&mut self, group: &SyncGroup, tracked: Vec<(TrackedBfd, Word)>) {
        for member in &group.instances {
            let Some(index) = self.config.instances.iter().position(|i| &i.name == member) else {
                continue;
            };
            for (entry, word) in &tracked {
                let weight_of = |t: &TrackedBfd, config: &Config| {
                    t.weight.or_else(|| {
                        config
                            .bfd
                            .iter()
                            .find(|b| b.name == t.name)
                            .map(|b| b.weight)
                    })
                };
                let config = &self.config;
                let existing = config.instances[index]
                    .track_bfd
                    .iter()
                    .position(|t| t.name == entry.name);
                match existing {
                    Some(at) => {
                        let own = weight_of(&config.instances[index].track_bfd[at], config);
                        if own != Some(Weight::FAULT) {
                            self.config.instances[index].track_bfd[at] = entry.clone();
                        }
                    }
                    None => {
                        let path = FieldPath::element(
                            Item::Instance(index),
                            "track_bfd",
                            config.instances[index].track_bfd.len(),
                        );
                        self.record(path, word.origin);
                        self.config.instances[index].track_bfd.push(entry.clone());
                    }
                }
            }
        }
    }
}
