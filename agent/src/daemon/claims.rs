//! What this daemon holds against other vipd daemons on the same host, as lock files under one
//! fixed directory that every daemon shares whatever its control socket:
//!
//! - a claim per instance identity (network namespace, interface, VRID, family): two daemons
//!   that would manage the same VIPs on the same interface refuse each other, while daemons in
//!   other namespaces or on other interfaces or VRIDs run side by side;
//! - a share of its network namespace, which tells a starting daemon whether it is the only vipd
//!   there, and so whether every VIP vipd marked in the namespace was left by a dead one.
//!
//! A network namespace is named by the inode of /proc/self/ns/net, unique among live ones.
//! Locks are flocks ([`LockFile`]): a killed daemon's claims vanish with it.

use crate::family::IpFamily;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::config::model::Instance;
use crate::lock_file::{LockError, LockFile};

/// Where every vipd on the host keeps its claims.
pub const CLAIMS_DIR: &str = "/run/vipd/claims";

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(
        "instance `{instance}`: another vipd{} already runs VRID {vrid} ({family}) on interface \
         {interface} in this network namespace: stop it, or give one of them another VRID or \
         interface",
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Taken {
        instance: String,
        interface: String,
        vrid: u8,
        family: &'static str,
        holder: Option<u32>,
    },
    #[error("cannot tell which network namespace vipd runs in (/proc/self/ns/net): {0}")]
    Namespace(std::io::Error),
    #[error(transparent)]
    Lock(LockError),
}

/// One instance's identity on the host: two instances with the same key would manage the same
/// VIPs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    interface: String,
    vrid: u8,
    family: IpFamily,
}

impl Key {
    fn of(instance: &Instance) -> Key {
        Key {
            interface: instance.interface.clone(),
            vrid: instance.vrid.get(),
            family: instance.family,
        }
    }
}

/// The claims a daemon holds, in one network namespace.
#[derive(Debug)]
pub struct Claims {
    dir: PathBuf,
    netns: u64,
    held: HashMap<Key, LockFile>,
}

impl Claims {
    /// No claims yet, in the namespace this process runs in.
    pub fn new(dir: &Path) -> Result<Claims, ClaimError> {
        Ok(Claims {
            dir: dir.to_path_buf(),
            netns: current_netns()?,
            held: HashMap::new(),
        })
    }

    /// Claims every instance not claimed yet. If one is taken, the claims this call made are
    /// given back and the error names the instance and the other daemon.
    pub fn claim(&mut self, instances: &[Instance]) -> Result<(), ClaimError> {
        let mut taken = Vec::new();
        for instance in instances {
            let key = Key::of(instance);
            if self.held.contains_key(&key) || taken.iter().any(|(k, _)| *k == key) {
                continue;
            }
            match LockFile::exclusive(&self.path(&key)) {
                Ok(lock) => taken.push((key, lock)),
                Err(LockError::Held { holder, .. }) => {
                    return Err(ClaimError::Taken {
                        instance: instance.name.clone(),
                        interface: key.interface,
                        vrid: key.vrid,
                        family: key.family.name(),
                        holder,
                    })
                }
                Err(error) => return Err(ClaimError::Lock(error)),
            }
        }
        self.held.extend(taken);
        Ok(())
    }

    /// Gives back the claims of instances no longer in `instances`.
    pub fn keep_only(&mut self, instances: &[Instance]) {
        self.held
            .retain(|key, _| instances.iter().any(|i| Key::of(i) == *key));
    }

    /// Joins the other vipd daemons of this network namespace. `Ok(Some(lock))` means none
    /// runs: `lock` holds the namespace alone until [`LockFile::share`] turns it into the share
    /// every daemon keeps. `Ok(None)` means others run; then [`Claims::share_namespace`].
    pub fn namespace_alone(&self) -> Result<Option<LockFile>, ClaimError> {
        LockFile::try_alone(&self.namespace_path()).map_err(ClaimError::Lock)
    }

    /// A share of the namespace beside the daemons already there (waiting while one that
    /// starts alone removes what dead daemons left).
    pub fn share_namespace(&self) -> Result<LockFile, ClaimError> {
        LockFile::shared(&self.namespace_path()).map_err(ClaimError::Lock)
    }

    fn namespace_path(&self) -> PathBuf {
        self.dir.join(format!("net{}.lock", self.netns))
    }

    fn path(&self, key: &Key) -> PathBuf {
        // Interface names cannot hold '/' (the kernel refuses them), so this stays in `dir`.
        self.dir.join(format!(
            "net{}-{}-vrid{}-{}.lock",
            self.netns,
            key.interface,
            key.vrid,
            key.family.name()
        ))
    }
}

/// The inode of this process's network namespace.
fn current_netns() -> Result<u64, ClaimError> {
    std::fs::metadata("/proc/self/ns/net")
        .map(|meta| meta.ino())
        .map_err(ClaimError::Namespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_str;

    fn instances(text: &str) -> Vec<Instance> {
        check_str(Path::new("t.toml"), text)
            .expect("a valid configuration")
            .config
            .instances
    }

    fn instance(name: &str, interface: &str, vrid: u8, vip: &str) -> String {
        format!(
            "[[instance]]\nname = \"{name}\"\ninterface = \"{interface}\"\nvrid = {vrid}\n\
             priority = 100\nvips = [\"{vip}\"]\n"
        )
    }

    /// Claims in `dir` holding instance `a` (eth0, VRID 51, IPv4), as a first daemon would.
    fn first_daemon(dir: &Path) -> Claims {
        let mut first = Claims::new(dir).unwrap();
        first
            .claim(&instances(&instance("a", "eth0", 51, "192.0.2.1/24")))
            .unwrap();
        first
    }

    #[test]
    fn the_same_interface_and_vrid_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = first_daemon(dir.path());
        let mut second = Claims::new(dir.path()).unwrap();
        // Another VIP does not matter: the interface and VRID are the instance.
        let error = second
            .claim(&instances(&instance("b", "eth0", 51, "192.0.2.2/24")))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "instance `b`: another vipd (pid {}) already runs VRID 51 (IPv4) on interface \
                 eth0 in this network namespace: stop it, or give one of them another VRID or \
                 interface",
                std::process::id()
            )
        );
    }

    #[test]
    fn other_interfaces_vrids_and_families_coexist() {
        let dir = tempfile::tempdir().unwrap();
        let _first = first_daemon(dir.path());
        let mut second = Claims::new(dir.path()).unwrap();
        let others = [
            instance("b", "eth1", 51, "192.0.2.1/24"),
            instance("c", "eth0", 52, "192.0.2.3/24"),
            instance("d", "eth0", 51, "2001:db8::1/64"),
        ]
        .concat();
        second.claim(&instances(&others)).unwrap();
    }

    #[test]
    fn a_refused_claim_gives_back_what_it_took_and_keep_only_releases() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = first_daemon(dir.path());
        let mut second = Claims::new(dir.path()).unwrap();
        let both = [
            instance("b", "eth1", 52, "192.0.2.2/24"),
            instance("c", "eth0", 51, "192.0.2.3/24"),
        ]
        .concat();
        assert!(second.claim(&instances(&both)).is_err());
        assert!(second.held.is_empty(), "eth1 VRID 52 was given back");
        first.keep_only(&[]);
        second.claim(&instances(&both)).expect("free once released");
    }
}
