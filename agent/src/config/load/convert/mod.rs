//! From the TOML tables to the model: defaults applied, numbers checked against the ranges the
//! model's types carry, and the position of every value recorded for validation. One file per
//! kind of table; this one holds the converter and the helpers they share.

mod bfd;
mod check;
mod global;
mod instance;

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::values::{CommandLine, DurationText};
use super::RawDocument;
use crate::config::diagnostic::{Diagnostic, FieldPath, Item, LineIndex, Location, SourceMap};
use crate::config::model::{Command, Config, Global, NotifyCommands, RunAs, Weight};

pub(super) struct Converter<'a> {
    file: &'a Path,
    lines: &'a LineIndex<'a>,
    map: SourceMap,
    errors: Vec<Diagnostic>,
}

impl<'a> Converter<'a> {
    pub fn new(file: &'a Path, lines: &'a LineIndex<'a>) -> Self {
        Converter {
            file,
            lines,
            map: SourceMap::new(file.to_path_buf()),
            errors: Vec::new(),
        }
    }

    pub fn finish(self) -> (SourceMap, Vec<Diagnostic>) {
        (self.map, self.errors)
    }

    pub fn convert(&mut self, raw: RawDocument) -> Config {
        let global = match raw.global {
            Some(global) => self.global(global),
            None => Global::default(),
        };
        let instances = raw
            .instances
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| self.instance(Item::Instance(i), raw))
            .collect();
        let sync_groups = raw
            .sync_groups
            .into_iter()
            .enumerate()
            .map(|(i, raw)| self.sync_group(Item::SyncGroup(i), raw))
            .collect();
        let checks = raw
            .checks
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| self.check(Item::Check(i), raw))
            .collect();
        let bfd = raw
            .bfd
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| self.bfd(Item::Bfd(i), raw))
            .collect();
        Config {
            global,
            instances,
            sync_groups,
            checks,
            bfd,
        }
    }

    pub(super) fn notify(
        &mut self,
        item: Item,
        raw: [Option<Spanned<CommandLine>>; 5],
    ) -> NotifyCommands {
        let [any, master, backup, fault, stop] = raw;
        let mut command = |key: &'static str, raw: Option<Spanned<CommandLine>>| {
            raw.map(|v| Command {
                argv: self.at(item, key, v).0,
            })
        };
        NotifyCommands {
            any: command("notify", any),
            master: command("notify_master", master),
            backup: command("notify_backup", backup),
            fault: command("notify_fault", fault),
            stop: command("notify_stop", stop),
        }
    }

    pub(super) fn duration(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<&Spanned<DurationText>>,
        default: Duration,
    ) -> Duration {
        let Some(raw) = raw else {
            return default;
        };
        self.record(FieldPath::key(item, key), raw.span().start);
        raw.get_ref().0
    }

    pub(super) fn flag(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<Spanned<bool>>,
        default: bool,
    ) -> bool {
        raw.map_or(default, |v| self.at(item, key, v))
    }

    pub(super) fn count(
        &mut self,
        item: Item,
        key: &'static str,
        raw: Option<&Spanned<i64>>,
        default: u32,
        what: &str,
    ) -> u32 {
        let Some(raw) = raw else {
            return default;
        };
        self.record(FieldPath::key(item, key), raw.span().start);
        self.ranged(raw, 1..=i64::from(u32::MAX), key, what)
            .map_or(default, |v| v as u32)
    }

    pub(super) fn weight_at(
        &mut self,
        start: usize,
        raw: Option<i64>,
        default: Weight,
    ) -> Option<Weight> {
        let Some(value) = raw else {
            return Some(default);
        };
        let weight = Weight::new(value);
        if weight.is_none() {
            let limit = Weight::LIMIT;
            self.error(
                start,
                format!("weight {value} is out of range: expected -{limit}..={limit} (0 puts the instance in FAULT on failure)"),
            );
        }
        weight
    }

    /// The value if it lies in `range`; an error at the value otherwise.
    pub(super) fn ranged(
        &mut self,
        raw: &Spanned<i64>,
        range: RangeInclusive<i64>,
        key: &str,
        what: &str,
    ) -> Option<i64> {
        let value = *raw.get_ref();
        if range.contains(&value) {
            return Some(value);
        }
        self.error(
            raw.span().start,
            format!(
                "{key} {value} is out of range: expected {what} in {}..={}",
                range.start(),
                range.end()
            ),
        );
        None
    }

    /// Records where a keyed value came from and unwraps it.
    pub(super) fn at<T>(&mut self, item: Item, key: &'static str, value: Spanned<T>) -> T {
        self.record(FieldPath::key(item, key), value.span().start);
        value.into_inner()
    }

    /// A script's user and optional group from their two keys; a group without a user is an
    /// error, since the group alone cannot say whom the script runs as.
    pub(super) fn run_as(
        &mut self,
        item: Item,
        (user_key, user): (&'static str, Option<Spanned<String>>),
        (group_key, group): (&'static str, Option<Spanned<String>>),
    ) -> Option<RunAs> {
        let group = group.map(|group| (group.span().start, self.at(item, group_key, group)));
        match (user, group) {
            (Some(user), group) => Some(RunAs {
                user: self.at(item, user_key, user),
                group: group.map(|(_, group)| group),
            }),
            (None, Some((start, _))) => {
                self.error(
                    start,
                    format!("`{group_key}` needs `{user_key}`: name the user the scripts run as, and the group with it"),
                );
                None
            }
            (None, None) => None,
        }
    }

    pub(super) fn element<T>(
        &mut self,
        item: Item,
        key: &'static str,
        index: usize,
        value: Spanned<T>,
    ) -> T {
        self.record(FieldPath::element(item, key, index), value.span().start);
        value.into_inner()
    }

    pub(super) fn record(&mut self, path: FieldPath, offset: usize) {
        self.map.record(path, self.lines.position(offset));
    }

    pub(super) fn error(&mut self, offset: usize, message: String) {
        self.errors.push(Diagnostic {
            location: Location {
                file: self.file.to_path_buf(),
                position: self.lines.position(offset),
            },
            message,
        });
    }
}
