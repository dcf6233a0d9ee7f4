//! Fuzz what `vipd import-keepalived` and `vipd run --keepalived-conf` do with a keepalived.conf:
//! read it (with the files it includes, taken from the input: see [`vipd_fuzz::Files`]), parse,
//! convert and validate it. No input may panic or recurse without bound, and a configuration
//! that imports must print as a vipd.toml that loads back to the same model.
//!
//! Run: `cd agent/fuzz && cargo +nightly fuzz run keepalived_conf`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vipd::config::{
    check_str,
    keepalived::{load_keepalived_with, ConfigId},
    write::to_toml,
};
use vipd_fuzz::{on_small_stack, Files};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let files = Files::parse(input);
    on_small_stack(|| {
        match load_keepalived_with(
            &Files::main_path(),
            &files.main,
            &files,
            &ConfigId::new("fuzz"),
        ) {
            Ok(checked) => {
                let _ = checked.warnings.to_string();
                let toml = to_toml(&checked.config);
                match check_str(Path::new("imported.toml"), &toml) {
                    Ok(again) => assert_eq!(again.config, checked.config, "{toml}"),
                    Err(errors) => panic!("the imported vipd.toml is refused:\n{errors}\n{toml}"),
                }
            }
            Err(errors) => {
                let _ = errors.to_string();
            }
        }
    });
});
