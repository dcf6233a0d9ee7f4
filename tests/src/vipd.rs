//! vipd processes under test: started in a namespace with a configuration written to a temp
//! file, their output kept in a log file, killed (SIGKILL) and reaped when dropped.
use std::{
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use vipd::control::{
    client::fetch_status,
    status::{InstanceStatus, Snapshot},
};

use crate::netns::Netns;

/// The `vipd` binary cargo built next to the running executable: beside it (the benchmark in
/// target/<profile>/) or one level up (tests in target/<profile>/deps/).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("vipd"))
        .collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no vipd binary at {candidates:?}: build it with `cargo build -p vipd` \
                 (cargo xtask test and cargo xtask bench do)"
            )
        })
}

/// A scratch directory removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(vipd_testkit::unique_name(tag));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch directory");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running `vipd run`.
pub struct Vipd {
    child: Option<Child>,
    log: PathBuf,
    pub config: PathBuf,
    /// Its control socket.
    pub socket: PathBuf,
}

impl Vipd {
    /// Writes `config` into `dir` as `<name>.toml` and starts `vipd run` on it inside `ns`.
    pub fn start(ns: &Netns, dir: &Path, name: &str, config: &str, extra: &[&str]) -> Self {
        let config_path = dir.join(format!("{name}.toml"));
        let socket = dir.join(format!("{name}.sock"));
        fs::write(&config_path, with_control_socket(config, &socket)).expect("write config");
        let mut args = vec![OsStr::new("--config"), config_path.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        Self::run(
            ns,
            &dir.join(format!("{name}.log")),
            &args,
            config_path.clone(),
            socket,
        )
    }

    /// Starts `vipd run ARGS` inside `ns`, its output going to `log`. `config` and `socket` are
    /// the configuration file and control socket that `args` give it.
    pub fn run(ns: &Netns, log: &Path, args: &[&OsStr], config: PathBuf, socket: PathBuf) -> Self {
        Self::run_with_env(ns, log, args, &[], config, socket)
    }

    /// As [`Vipd::run`], with `env` added to vipd's environment (a configuration that comes
    /// from the environment, as OpenShift's ipfailover gives it).
    pub fn run_with_env(
        ns: &Netns,
        log: &Path,
        args: &[&OsStr],
        env: &[(&str, &str)],
        config: PathBuf,
        socket: PathBuf,
    ) -> Self {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns.name()])
            .arg(binary())
            .envs(env.iter().copied());
        Self::spawn(command, log, args, config, socket)
    }

    /// As [`Vipd::run`], but vipd starts only once it has read a line from the FIFO `gate`:
    /// daemons waiting at one gate start at the same instant when the test writes a line for
    /// each. The shell that waits execs vipd, so the pid stays vipd's.
    pub fn run_gated(
        ns: &Netns,
        gate: &Path,
        log: &Path,
        args: &[&OsStr],
        config: PathBuf,
        socket: PathBuf,
    ) -> Self {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns.name()])
            .args(["sh", "-c", r#"read -r _ < "$0" && exec "$@""#])
            .arg(gate)
            .arg(binary());
        Self::spawn(command, log, args, config, socket)
    }

    fn spawn(
        mut command: Command,
        log: &Path,
        args: &[&OsStr],
        config: PathBuf,
        socket: PathBuf,
    ) -> Self {
        let out = fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command
            .arg("run")
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start vipd");
        Self {
            child: Some(child),
            log: log.to_path_buf(),
            config,
            socket,
        }
    }

    /// Whether the process is still running (false once it exited or was reaped).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().expect("try_wait").is_none())
    }

    /// `ip netns exec` execs vipd in place, so this is vipd's own pid.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// Waits for the process to exit and returns its exit code (None if killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Option<i32>> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return Some(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The daemon's status over its control socket, as `vipd status` asks for it (waiting a
    /// while for a daemon still starting to answer).
    pub fn status(&self) -> Snapshot {
        let mut snapshot = None;
        wait_until(Duration::from_secs(10), || {
            snapshot = fetch_status(&self.socket).ok();
            snapshot.is_some()
        });
        snapshot.unwrap_or_else(|| panic!("vipd never answered:\n{}", self.log()))
    }

    /// The status of the daemon's first (in these tests, only) instance.
    pub fn instance_status(&self) -> InstanceStatus {
        self.status()
            .instances
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no instance:\n{}", self.log()))
    }

    /// The first instance's drops for `reason` (zero until one is counted).
    pub fn drops(&self, reason: &str) -> u64 {
        counter(&self.status(), &format!("drops.{reason}"))
    }

    /// The XDP program's counter `name` (see `agent_common::XDP_COUNTERS`); zero without XDP.
    pub fn xdp_counter(&self, name: &str) -> u64 {
        counter(&self.status(), &format!("xdp.{name}"))
    }

    /// Adverts refused for carrying no auth_hmac trailer, at either depth: by the XDP program
    /// (no room for one) where it runs, else by the agent.
    pub fn unsigned_refused(&self) -> u64 {
        let status = self.status();
        counter(&status, "xdp.adverts_unsigned") + counter(&status, "drops.auth_missing_trailer")
    }

    /// How many state changes the daemon has logged.
    pub fn logged_transitions(&self) -> usize {
        self.log().matches("state changed").count()
    }
}

impl Drop for Vipd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- vipd log {} ---\n{}", self.log.display(), self.log());
        }
    }
}

/// Counter `name` of `status`: `drops.REASON` of its first instance, or `xdp.NAME` of the XDP
/// program (zero without XDP); zero until something is counted.
pub fn counter(status: &Snapshot, name: &str) -> u64 {
    match name.split_once('.') {
        Some(("drops", reason)) => status
            .instances
            .first()
            .and_then(|instance| instance.drops.get(reason).copied())
            .unwrap_or(0),
        Some(("xdp", wanted)) => status.daemon.xdp.as_ref().map_or(0, |counters| {
            let value = counters
                .iter()
                .find(|(spec, _)| spec.name == wanted)
                .map(|(_, value)| value);
            value.unwrap_or_else(|| panic!("no XDP counter {wanted}"))
        }),
        _ => panic!("counter {name}: expected drops.REASON or xdp.NAME"),
    }
}

/// `config` with its own control socket, so that vipd processes of concurrent tests (which share
/// the file system) do not meet at the default `/run/vipd/vipd.sock`.
pub fn with_control_socket(config: &str, socket: &Path) -> String {
    let line = format!("control_socket = \"{}\"\n", socket.display());
    match config.find("[global]\n") {
        Some(at) => {
            let (head, tail) = config.split_at(at + "[global]\n".len());
            format!("{head}{line}{tail}")
        }
        None => format!("[global]\n{line}\n{config}"),
    }
}

/// vipd.toml with one VRRPv3 instance `VI_1` on eth0, VRID 51, adverts every 100 ms, priority
/// `priority`, holding `vip`/24, plus `extra` lines.
pub fn instance_config(priority: u8, vip: &str, extra: &str) -> String {
    format!(
        "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {priority}\n\
         advert_interval = \"100ms\"\nvips = [\"{vip}/24\"]\n{extra}"
    )
}

/// Polls `condition` until it holds or `timeout` passes (a generous bound for "eventually", not
/// a timing assertion); returns whether it held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
