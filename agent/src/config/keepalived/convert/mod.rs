//! From keepalived's statements to vipd's model, with keepalived's defaults and every value's
//! origin recorded. What vipd runs is converted; what it does not run is one warning naming the
//! line; what keepalived itself would refuse is an error. One file per kind of block; this one
//! holds the importer, the top level and the helpers the blocks share.

mod auth_hmac;
mod bfd;
mod checks;
mod entries;
mod global;
mod instance;
mod sync_group;

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::time::Duration;

use super::source::{Origin, Sources};
use super::syntax::{split_line, Arity, Statement, Word};
use super::values;
use crate::config::diagnostic::{Diagnostic, FieldPath, Item, SourceMap};
use crate::config::model::{Command, Config, Garp, Global, RunAs, Version};

/// What the importer made of a configuration.
pub struct Imported {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
    /// Positions in the consolidated configuration (see [`Sources::consolidated`]), for
    /// validation, whose diagnostics are mapped back to their file afterwards.
    pub consolidated: SourceMap,
    /// Positions in the main file (an `include` line stands for what it includes).
    pub main_file: SourceMap,
}

/// Top-level blocks that vipd does not run: the rest of the configuration still runs.
const NOT_RUN: &[(&str, &str)] = &[
    ("virtual_server", "LVS virtual servers and their checkers"),
    ("virtual_server_group", "LVS virtual server groups"),
    ("static_ipaddress", "static addresses"),
    ("static_routes", "static routes"),
    ("static_rules", "static rules"),
    ("track_group", "track groups"),
    ("garp_group", "GARP groups"),
    ("linkbeat_interfaces", "linkbeat polling"),
    ("interface_up_down_delays", "interface up/down delays"),
    ("vrrp_track_process", "process tracking"),
    ("net_namespace", "network namespaces"),
    ("net_namespace_ipvs", "network namespaces"),
    ("namespace_with_ipsets", "network namespaces"),
    ("instance", "named keepalived instances"),
    ("use_pid_dir", "keepalived's pid directories"),
    ("linkbeat_use_polling", "linkbeat polling"),
    ("child_wait_time", "keepalived's child processes"),
    ("include_check", "keepalived's include checks"),
];

/// Settings of global_defs that instances take as defaults.
#[derive(Default)]
struct InstanceDefaults {
    version: Option<(Version, Origin)>,
    garp: Garp,
    /// `vrrp_strict`: accept mode off unless an instance says `accept`.
    strict: bool,
}

pub(super) struct Importer<'a> {
    sources: &'a Sources,
    config: Config,
    warnings: Vec<Diagnostic>,
    errors: Vec<Diagnostic>,
    consolidated: SourceMap,
    main_file: SourceMap,
    defaults: InstanceDefaults,
    /// Scripts that check nothing (`true`, a monitor port of 0): tracking them is dropped.
    no_op_checks: Vec<String>,
    /// vrrp_track_file blocks by name: the file and its weight.
    track_files: HashMap<String, checks::TrackFileDefinition>,
}

pub(super) fn import(sources: &Sources, statements: &[Statement]) -> Imported {
    let main = sources.files[0].path.clone();
    let mut importer = Importer {
        sources,
        config: Config {
            global: Global::default(),
            instances: Vec::new(),
            sync_groups: Vec::new(),
            checks: Vec::new(),
            bfd: Vec::new(),
        },
        warnings: Vec::new(),
        errors: Vec::new(),
        consolidated: SourceMap::new(main.clone()),
        main_file: SourceMap::new(main),
        defaults: InstanceDefaults::default(),
        no_op_checks: Vec::new(),
        track_files: HashMap::new(),
    };
    importer.top_level(statements);
    Imported {
        config: importer.config,
        warnings: importer.warnings,
        errors: importer.errors,
        consolidated: importer.consolidated,
        main_file: importer.main_file,
    }
}

impl Importer<'_> {
    /// global_defs first, then the definitions instances refer to, then instances and groups:
    /// keepalived applies global defaults and resolves names after reading everything, so the
    /// order of blocks in the file does not matter.
    fn top_level(&mut self, statements: &[Statement]) {
        let of = |names: &'static [&'static str]| {
            statements.iter().filter(move |s| names.contains(&s.name()))
        };
        for statement in of(&["global_defs"]) {
            if let Some(block) = self.block_of(statement) {
                self.global_defs(block);
            }
        }
        for statement in of(&["vrrp_script"]) {
            self.vrrp_script(statement);
        }
        for statement in of(&["vrrp_track_file", "track_file"]) {
            self.vrrp_track_file(statement);
        }
        for statement in of(&["bfd_instance"]) {
            self.bfd_instance(statement);
        }
        for statement in of(&["vrrp_instance"]) {
            self.vrrp_instance(statement);
        }
        for statement in of(&["vrrp_sync_group"]) {
            self.vrrp_sync_group(statement);
        }
        const CONVERTED: &[&str] = &[
            "global_defs",
            "vrrp_script",
            "vrrp_track_file",
            "track_file",
            "vrrp_instance",
            "vrrp_sync_group",
            "bfd_instance",
        ];
        for statement in statements {
            let name = statement.name();
            if CONVERTED.contains(&name) {
                continue;
            }
            match NOT_RUN.iter().find(|(keyword, _)| *keyword == name) {
                Some((_, what)) => self.warn(
                    statement.keyword.origin,
                    format!("`{name}` is ignored: vipd runs VRRP only, not {what}"),
                ),
                None => self.error(
                    statement.keyword.origin,
                    format!("unknown keyword `{name}` (expected global_defs, vrrp_script, vrrp_track_file, bfd_instance, vrrp_instance or vrrp_sync_group)"),
                ),
            }
        }
    }

    fn warn(&mut self, origin: Origin, message: impl Into<String>) {
        self.warnings.push(self.sources.diagnostic(origin, message));
    }

    fn error(&mut self, origin: Origin, message: impl Into<String>) {
        self.errors.push(self.sources.diagnostic(origin, message));
    }

    fn record(&mut self, path: FieldPath, origin: Origin) {
        self.consolidated
            .record(path, self.sources.consolidated(origin));
        self.main_file
            .record(path, self.sources.in_main_file(origin));
    }

    /// The block of a statement that must have one.
    fn block_of<'s>(&mut self, statement: &'s Statement) -> Option<&'s [Statement]> {
        match &statement.block {
            Some(block) => Some(block),
            None => {
                self.error(
                    statement.keyword.origin,
                    format!(
                        "`{}` needs a block: `{} {{ ... }}`",
                        statement.name(),
                        statement.name()
                    ),
                );
                None
            }
        }
    }

    /// The name of `vrrp_instance NAME { ... }` and the like, with its block.
    fn named_block<'s>(&mut self, statement: &'s Statement) -> Option<(&'s Word, &'s [Statement])> {
        let block = self.block_of(statement)?;
        match statement.args.as_slice() {
            [name] => Some((name, block)),
            _ => {
                self.error(
                    statement.keyword.origin,
                    format!(
                        "`{}` takes one name before its block: `{} NAME {{ ... }}`",
                        statement.name(),
                        statement.name()
                    ),
                );
                None
            }
        }
    }

    /// The statements of a block, one-line forms split, each keyword known to `arity`; a
    /// keyword it does not know is reported (an error if `unknown_is_error`, else a warning)
    /// and left out.
    fn statements(
        &mut self,
        block: &[Statement],
        arity: impl Fn(&str) -> Option<Arity> + Copy,
        context: &str,
        unknown_is_error: bool,
    ) -> Vec<Statement> {
        let split = split_line(block, arity);
        self.warn_about_split_lines(block, &split);
        let mut known = Vec::new();
        for statement in split {
            let Some(expected) = arity(statement.name()) else {
                let name = statement.name();
                if unknown_is_error {
                    self.error(
                        statement.keyword.origin,
                        format!("unknown keyword `{name}` in {context}"),
                    );
                } else {
                    self.warn(
                        statement.keyword.origin,
                        format!("`{name}` in {context} is ignored: vipd has no such setting"),
                    );
                }
                continue;
            };
            if let Arity::Fixed(n) = expected {
                if statement.args.len() > n {
                    self.error(
                        statement.args[n].origin,
                        format!(
                            "unexpected `{}`: `{}` takes {}",
                            statement.args[n].text,
                            statement.name(),
                            match n {
                                0 => "no value".to_string(),
                                1 => "one value".to_string(),
                                n => format!("{n} values"),
                            }
                        ),
                    );
                    continue;
                }
                if statement.args.len() < n {
                    self.error(
                        statement.keyword.origin,
                        format!("`{}` needs a value", statement.name()),
                    );
                    continue;
                }
            }
            known.push(statement);
        }
        known
    }

    /// keepalived (2.2) reads one keyword per line: on `state MASTER interface eth0` it takes
    /// `state MASTER` and ignores the rest. vipd reads every keyword, and says so, because
    /// keepalived nodes running the same file would not.
    fn warn_about_split_lines(&mut self, block: &[Statement], split: &[Statement]) {
        for original in block {
            let more: Vec<&str> = split
                .iter()
                .filter(|s| original.args.iter().any(|a| a.origin == s.keyword.origin))
                .map(|s| s.name())
                .collect();
            if more.is_empty() {
                continue;
            }
            let more = more
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            self.warn(
                original.keyword.origin,
                format!(
                    "several keywords on one line: vipd reads {more} after `{}`, which keepalived ignores (it reads one keyword per line); make sure the keepalived nodes of this group run the same settings",
                    original.name()
                ),
            );
        }
    }

    /// The single argument of a statement.
    fn value<'s>(&mut self, statement: &'s Statement) -> Option<&'s Word> {
        match statement.args.as_slice() {
            [value] => Some(value),
            [] => {
                self.error(
                    statement.keyword.origin,
                    format!("`{}` needs a value", statement.name()),
                );
                None
            }
            [_, extra, ..] => {
                self.error(
                    extra.origin,
                    format!(
                        "unexpected `{}`: `{}` takes one value",
                        extra.text,
                        statement.name()
                    ),
                );
                None
            }
        }
    }

    fn integer<T: TryFrom<i64>>(
        &mut self,
        word: &Word,
        range: RangeInclusive<i64>,
        what: &str,
    ) -> Option<T> {
        match values::integer(&word.text).filter(|n| range.contains(n)) {
            Some(n) => T::try_from(n).ok(),
            None => {
                self.error(
                    word.origin,
                    format!(
                        "`{}` is not a valid {what}: expected a whole number from {} to {}",
                        word.text,
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    fn seconds(&mut self, word: &Word, what: &str) -> Option<Duration> {
        let parsed = values::seconds(&word.text);
        if parsed.is_none() {
            self.error(
                word.origin,
                format!(
                    "`{}` is not a valid {what}: expected seconds such as 1, 0.5 or 0.001",
                    word.text
                ),
            );
        }
        parsed
    }

    /// keepalived's `username [groupname]` after `script_user` or a vrrp_script's `user`.
    fn run_as(&mut self, statement: &Statement) -> Option<RunAs> {
        match statement.args.as_slice() {
            [] => {
                self.error(
                    statement.keyword.origin,
                    format!("`{}` needs a user name", statement.name()),
                );
                None
            }
            [user, rest @ ..] => {
                if let Some(extra) = rest.get(1) {
                    self.warn(
                        extra.origin,
                        format!(
                            "`{}` takes a user and a group; `{}` and what follows are ignored",
                            statement.name(),
                            extra.text
                        ),
                    );
                }
                Some(RunAs {
                    user: user.text.clone(),
                    group: rest.first().map(|group| group.text.clone()),
                })
            }
        }
    }

    /// A notify command: keepalived's `notify_* SCRIPT [username [groupname]]`, where SCRIPT is
    /// one word (quoted if it has arguments). vipd runs notify commands as `script_user`, so a
    /// command for another user is left out rather than run as someone it was not meant for.
    fn notify_command(&mut self, statement: &Statement) -> Option<Command> {
        let (script, run_as) = match statement.args.as_slice() {
            [script, user, rest @ ..] => (
                script,
                Some(RunAs {
                    user: user.text.clone(),
                    group: rest.first().map(|group| group.text.clone()),
                }),
            ),
            [script] => (script, None),
            [] => {
                self.error(
                    statement.keyword.origin,
                    format!("`{}` needs a command", statement.name()),
                );
                return None;
            }
        };
        let Some(argv) = values::command_words([script.text.as_str()]) else {
            self.error(
                script.origin,
                format!("`{}` needs a command; check its quotes", statement.name()),
            );
            return None;
        };
        if let Some(run_as) = run_as.filter(|r| self.config.global.script_user.as_ref() != Some(r))
        {
            self.warn(
                statement.args[1].origin,
                format!(
                    "`{}` is not run: keepalived runs it as user `{}`, and vipd runs notify \
                     commands only as script_user (set script_user to that user, or quote the \
                     command with its arguments if these words were meant as arguments)",
                    statement.name(),
                    run_as.user
                ),
            );
            return None;
        }
        Some(Command { argv })
    }

    /// A command from the words after a notify or script keyword.
    fn command(&mut self, statement: &Statement) -> Option<Command> {
        let argv = values::command_words(statement.args.iter().map(|w| w.text.as_str()));
        if argv.is_none() {
            self.error(
                statement
                    .args
                    .first()
                    .map_or(statement.keyword.origin, |w| w.origin),
                format!("`{}` needs a command; check its quotes", statement.name()),
            );
        }
        argv.map(|argv| Command { argv })
    }

    fn item_at(&mut self, item: Item, statement: &Statement, name: &Word) {
        self.record(FieldPath::item(item), statement.keyword.origin);
        self.record(FieldPath::key(item, "name"), name.origin);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{checks, entries, global, instance, sync_group};
    use crate::config::keepalived::syntax::Arity;
    use crate::config::keepalived::{load_keepalived_str, ConfigId};

    /// `keyword` with values for its arity (and a block where it takes one).
    fn statement(keyword: &str, arity: Arity, with_block: bool) -> String {
        let values = match arity {
            Arity::Fixed(n) => vec!["1"; n],
            Arity::Optional => vec!["x"],
            Arity::Rest => vec!["/bin/true", "x"],
        };
        let block = if with_block { " {\n  1\n }" } else { "" };
        format!(" {keyword} {}{block}\n", values.join(" "))
    }

    /// Every keyword of every block's table reaches a handler: a keyword listed but not handled
    /// would panic on user input.
    #[test]
    fn every_keyword_of_every_block_is_handled() {
        let base = " interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n";
        let mut texts = Vec::new();
        for &(keyword, arity) in instance::KEYWORDS {
            let with_block = instance::WITH_BLOCK.contains(&keyword);
            let line = statement(keyword, arity, with_block);
            texts.push(format!("vrrp_instance V {{\n{base}{line}}}\n"));
        }
        for &(keyword, arity) in entries::AUTHENTICATION_KEYWORDS {
            let line = statement(keyword, arity, false);
            texts.push(format!(
                "vrrp_instance V {{\n{base} authentication {{\n{line} }}\n}}\n"
            ));
        }
        let global_keywords = global::KEYWORDS.iter().copied().chain(
            global::SNMP
                .iter()
                .chain(global::DIFFERENT.iter().map(|(k, _)| k))
                .map(|k| (*k, Arity::Rest)),
        );
        for (keyword, arity) in global_keywords {
            texts.push(format!(
                "global_defs {{\n{}}}\n",
                statement(keyword, arity, false)
            ));
        }
        for &(keyword, arity) in checks::SCRIPT_KEYWORDS {
            let line = statement(keyword, arity, false);
            texts.push(format!("vrrp_script s {{\n script /bin/true\n{line}}}\n"));
        }
        for &(keyword, arity) in checks::TRACK_FILE_KEYWORDS {
            let line = statement(keyword, arity, false);
            texts.push(format!("vrrp_track_file t {{\n file /x\n{line}}}\n"));
        }
        for &(keyword, arity) in sync_group::KEYWORDS {
            let line = statement(keyword, arity, arity == Arity::Fixed(0));
            texts.push(format!(
                "vrrp_instance V {{\n{base}}}\nvrrp_sync_group g {{\n{line}}}\n"
            ));
        }
        for text in texts {
            // Accepted or refused, but never a panic.
            let _ = load_keepalived_str(Path::new("k.conf"), &text, &ConfigId::new("fuzz"));
        }
    }
}
