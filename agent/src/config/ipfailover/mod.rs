//! OpenShift's ipfailover without its image: `vipd run --openshift-ipfailover` reads the
//! `OPENSHIFT_HA_*` environment the ipfailover image is deployed with and runs what the image's
//! scripts would have run, so a deployment swaps the image and keeps its environment.
//!
//! The image turns its environment into a keepalived.conf and starts keepalived on it. vipd
//! does the same: [`settings`] reads and checks the variables (with the image's defaults),
//! [`ranges`] expands the VIP list, [`instances`] derives the VRRP instances (how VIPs are
//! grouped, each one's VRID, state and priority on this node), and [`render`] writes them as the
//! keepalived.conf the image would have written, which then goes through vipd's keepalived
//! importer. Going through the keepalived text rather than building the model directly keeps
//! keepalived's meaning of every generated line (defaults, `state MASTER`, `nopreempt`, the
//! `auth_pass` truncation, `vrrp_script`/`track_script` semantics) in one place, the importer,
//! instead of a second copy here; the text is also what `vipd import-openshift-ipfailover
//! --keepalived-conf` shows for comparing with the image. [`host`] answers what the scripts ask
//! the system: which interface to use and this node's address on it.

mod host;
mod instances;
mod ranges;
mod render;
mod settings;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use super::diagnostic::{ConfigErrors, Diagnostic, Location, Position};
use super::keepalived::{load_keepalived_str, ConfigId};
use super::Checked;
pub use host::Host;
pub use instances::Jitter;

/// Where diagnostics about the environment point: there is no file, and this names the source.
pub const SOURCE: &str = "<OPENSHIFT_HA_* environment>";

/// The process environment (or, in tests, a chosen one), by variable name.
pub type Environment = BTreeMap<String, String>;

/// A problem with one variable: the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct EnvError {
    pub variable: &'static str,
    pub message: String,
}

/// The keepalived.conf the image's scripts would generate on `host` from `env`.
pub fn keepalived_conf(
    env: &Environment,
    host: &dyn Host,
    jitter: &Jitter,
) -> Result<String, EnvError> {
    derive(env, host, jitter).map(|(text, _)| text)
}

/// The keepalived.conf, and warnings about the environment that the text does not show.
fn derive(
    env: &Environment,
    host: &dyn Host,
    jitter: &Jitter,
) -> Result<(String, Vec<String>), EnvError> {
    let settings = settings::Settings::read(env)?;
    let interface = host::interface(host, settings.interface.as_deref())?;
    let node = host.ipv4_address(&interface);
    let derived = instances::derive(&settings, node, jitter);
    let text = render::keepalived_conf(&settings, &interface, node, &derived);
    let mut warnings: Vec<String> = settings::firewall_variable(env)
        .map(|variable| format!(
            "{variable} is set: vipd does not add the image's nftables table (inet keepalived, accepting 224.0.0.18); its chain's policy is accept, so nothing changes unless other rules drop VRRP, which you must then open yourself"
        ))
        .into_iter()
        .collect();
    warnings.extend(host::missing(
        host,
        settings.interface.as_deref(),
        &interface,
    ));
    Ok((text, warnings))
}

/// The vipd configuration the image's keepalived would run, loaded and validated like an
/// imported keepalived.conf. Warnings about the generated text name its line in [`SOURCE`].
pub fn load(env: &Environment, host: &dyn Host, jitter: &Jitter) -> Result<Checked, ConfigErrors> {
    let source = Path::new(SOURCE);
    let (text, notes) = derive(env, host, jitter)
        .map_err(|error| ConfigErrors::whole_file(source, error.to_string()))?;
    // The generated text has no `@ID` lines; any id reads it the same.
    let mut checked = load_keepalived_str(source, &text, &ConfigId::new("ipfailover"))?;
    let whole = |message| Diagnostic {
        location: Location {
            file: source.to_path_buf(),
            position: Position { line: 1, column: 1 },
        },
        message,
    };
    checked
        .warnings
        .0
        .splice(0..0, notes.into_iter().map(whole));
    Ok(checked)
}

/// The environment of this process, as [`load`] takes it.
pub fn process_environment() -> Environment {
    std::env::vars().collect()
}

/// What `vipd run --openshift-ipfailover` runs and reloads: the environment read at start (a
/// process's environment does not change), the host asked again at each load, and the seed of
/// the backups' random priorities, kept so that a reload does not reshuffle them.
#[derive(Clone)]
pub struct Source {
    pub env: Environment,
    pub host: std::sync::Arc<dyn Host + Send + Sync>,
    pub seed: u64,
}

impl Source {
    /// A fresh random seed, as each start of the image's script draws new `$RANDOM`s.
    pub fn new(env: Environment, host: std::sync::Arc<dyn Host + Send + Sync>) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Source { env, host, seed }
    }

    pub fn load(&self) -> Result<Checked, ConfigErrors> {
        load(&self.env, &*self.host, &self.jitter())
    }

    /// The keepalived.conf [`Source::load`] imports.
    pub fn keepalived_conf(&self) -> Result<String, EnvError> {
        keepalived_conf(&self.env, &*self.host, &self.jitter())
    }

    /// The same random part for the same instance at every load.
    fn jitter(&self) -> impl Fn(u32) -> u8 {
        let seed = self.seed;
        move |counter: u32| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::hash::DefaultHasher::new();
            (seed, counter).hash(&mut hasher);
            (hasher.finish() % 32) as u8
        }
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("env", &self.env)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}
