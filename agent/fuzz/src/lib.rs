//! What vipd's fuzz targets share: running a target on a small stack, the files a
//! keepalived.conf may include, taken from the input instead of the disk, and the model the
//! XDP program's runs are checked against.

pub mod xdp_model;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use vipd::config::keepalived::IncludeFiles;

/// The stack a target's work runs on. The daemon reads its configuration on tokio's worker
/// threads (2 MiB); a quarter of that makes recursion that grows with the input overflow within
/// the few kilobytes libFuzzer feeds, where the daemon's stack would only overflow at a few
/// hundred kilobytes of input (10,000 nested blocks once did).
pub const STACK: usize = 512 * 1024;

/// Runs `work` on a thread with a [`STACK`]-byte stack and returns what it returns; a panic
/// there aborts the process (libfuzzer-sys's panic hook), which libFuzzer reports as a crash.
pub fn on_small_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, work)
            .expect("spawn the target's thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The directory the main file of a [`Files`] input sits in.
pub const CONF_DIR: &str = "/etc/keepalived";

/// A keepalived.conf and the files it may include, all from one fuzz input: the text up to the
/// first line starting with `--- ` is the main file, `CONF_DIR/keepalived.conf`; each such line
/// starts a file named by the rest of the line (relative to [`CONF_DIR`] unless absolute).
/// Nothing is ever read from the disk.
#[derive(Debug, Default)]
pub struct Files {
    pub main: String,
    files: BTreeMap<PathBuf, String>,
}

impl Files {
    pub fn main_path() -> PathBuf {
        Path::new(CONF_DIR).join("keepalived.conf")
    }

    pub fn parse(input: &str) -> Files {
        let mut files = Files::default();
        let mut current: Option<(PathBuf, String)> = None;
        for line in input.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("--- ") {
                if let Some((path, text)) = current.take() {
                    files.files.insert(path, text);
                }
                current = Some((Path::new(CONF_DIR).join(name.trim_end()), String::new()));
                continue;
            }
            match &mut current {
                Some((_, text)) => text.push_str(line),
                None => files.main.push_str(line),
            }
        }
        if let Some((path, text)) = current {
            files.files.insert(path, text);
        }
        files
    }
}

impl IncludeFiles for Files {
    fn matching(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let pattern = glob::Pattern::new(pattern).map_err(|error| error.to_string())?;
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        // A BTreeMap iterates in sorted order, as the disk's matches are returned.
        Ok(self
            .files
            .keys()
            .filter(|path| pattern.matches_path_with(path, options))
            .cloned()
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}
