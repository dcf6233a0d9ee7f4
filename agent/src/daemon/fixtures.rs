//! Configurations the daemon's unit tests share, checked as `vipd run` checks them.
use std::path::Path;

use crate::config::{self, model::Config};

/// One instance, `VI_1` on eth0, VRID 51, priority 150, one VIP; a test appends the instance
/// keys it needs (or replaces `priority = 150` to insert them).
pub const ONE_INSTANCE: &str = r#"
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = 150
vips = ["192.0.2.100/24"]
"#;

/// Two instances, `a` on eth0 and `b` on eth1, in the sync group `g`.
pub const SYNC_GROUP: &str = r#"
[[instance]]
name = "a"
interface = "eth0"
vrid = 1
vips = ["192.0.2.100/24"]

[[instance]]
name = "b"
interface = "eth1"
vrid = 2
vips = ["198.51.100.100/24"]

[[sync_group]]
name = "g"
instances = ["a", "b"]
"#;

/// The checked configuration of `toml`; panics if it is not valid.
pub fn config(toml: &str) -> Config {
    config::check_str(Path::new("test.toml"), toml)
        .expect("valid config")
        .config
}
