//! Fuzz `vipd check-config` and the daemon's configuration loader: any text must load and
//! validate or be refused without a panic or unbounded recursion, and a configuration that
//! validates must be written back (`to_toml`, as `import-keepalived` prints) as text that loads
//! to the same model.
//!
//! Run: `cd agent/fuzz && cargo +nightly fuzz run toml_config`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vipd::config::{check_str, write::to_toml};
use vipd_fuzz::on_small_stack;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_small_stack(|| match check_str(Path::new("vipd.toml"), text) {
        Ok(checked) => {
            let _ = checked.warnings.to_string();
            let written = to_toml(&checked.config);
            match check_str(Path::new("written.toml"), &written) {
                Ok(again) => assert_eq!(again.config, checked.config, "{written}"),
                Err(errors) => panic!("the written vipd.toml is refused:\n{errors}\n{written}"),
            }
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    });
});
