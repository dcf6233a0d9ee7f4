//! Several `vipd run` on one host: the control socket's lock, `--control-socket` and
//! `--pid-file`, and the claims that keep two daemons off the same interface and VRID.
//!
//! Claims live under the fixed /run/vipd/claims, keyed by network namespace; every test runs its
//! daemons in namespaces of its own, so tests running at once never meet there.
use std::{
    ffi::OsStr,
    net::IpAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use vipd_tests::{
    kernel_tests_enabled,
    netns::Netns,
    topology::Lan,
    vipd::{wait_until, Scratch, Vipd},
};

const EVENTUALLY: Duration = Duration::from_secs(15);

/// A VRRPv3 instance on eth0 with VRID `vrid` and the VIP `vip`.
fn config(vrid: u8, vip: &str) -> String {
    format!(
        "[[instance]]\nname = \"VI_{vrid}\"\ninterface = \"eth0\"\nvrid = {vrid}\n\
         priority = 150\nadvert_interval = \"100ms\"\nvips = [\"{vip}/24\"]\n"
    )
}

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// `vipd run --config CONFIG --control-socket SOCKET [--pid-file PID]` in `ns`, logging to
/// `<name>.log` in `dir`.
fn start(
    ns: &Netns,
    dir: &Path,
    name: &str,
    config: &Path,
    socket: &Path,
    pid_file: Option<&Path>,
) -> Vipd {
    let args = args(config, socket, pid_file);
    let log = dir.join(format!("{name}.log"));
    Vipd::run(ns, &log, &args, config.to_path_buf(), socket.to_path_buf())
}

fn args<'a>(config: &'a Path, socket: &'a Path, pid_file: Option<&'a Path>) -> Vec<&'a OsStr> {
    let mut args = vec![
        OsStr::new("--config"),
        config.as_os_str(),
        OsStr::new("--control-socket"),
        socket.as_os_str(),
        OsStr::new("--dataplane"),
        OsStr::new("socket"),
    ];
    if let Some(pid_file) = pid_file {
        args.extend([OsStr::new("--pid-file"), pid_file.as_os_str()]);
    }
    args
}

/// A FIFO that daemons started with [`Vipd::run_gated`] wait at.
struct Gate {
    path: PathBuf,
}

impl Gate {
    fn new(dir: &Path) -> Gate {
        let path = dir.join("gate");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: c_path is a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
        Gate { path }
    }

    /// Lets the daemons `waiting` (their pids) go at once: once each one's shell has the FIFO
    /// open, a line for each is written. Opened read-write, the FIFO never blocks the test, and
    /// it stays open until each has become vipd, so a line is never lost with the last writer.
    fn open(&self, waiting: &[i32]) {
        use std::io::Write;
        let mut fifo = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .unwrap();
        let all = |condition: &dyn Fn(i32) -> bool| waiting.iter().all(|&pid| condition(pid));
        let at_gate = |pid: i32| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .map(|fds| {
                    fds.flatten()
                        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|to| to == self.path))
                })
                .unwrap_or(false)
        };
        assert!(
            wait_until(EVENTUALLY, || all(&at_gate)),
            "never reached the gate"
        );
        fifo.write_all("go\n".repeat(waiting.len()).as_bytes())
            .unwrap();
        let passed = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map_or(true, |comm| comm.trim() == "vipd")
        };
        assert!(wait_until(EVENTUALLY, || all(&passed)), "stuck at the gate");
    }
}

fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The pid `vipd status` reports on `socket`, once a daemon answers there.
fn status_pid(socket: &Path) -> Option<i32> {
    let out = Command::new(vipd_tests::vipd::binary())
        .args(["status", "--json", "--control-socket"])
        .arg(socket)
        .output()
        .expect("vipd status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json["daemon"]["pid"].as_i64().map(|pid| pid as i32)
}

fn assert_answers(vipd: &Vipd) {
    assert!(
        wait_until(EVENTUALLY, || status_pid(&vipd.socket) == Some(vipd.pid())),
        "vipd {} never answered on {}:\n{}",
        vipd.pid(),
        vipd.socket.display(),
        vipd.log()
    );
}

/// Asserts that `loser` exits non-zero with `message` in its output, and nothing about a
/// socket address in use.
fn assert_refused(loser: &mut Vipd, message: &str) {
    let code = loser.wait_exit(EVENTUALLY);
    let log = loser.log();
    assert!(
        matches!(code, Some(Some(c)) if c != 0),
        "expected a failing exit, got {code:?}:\n{log}"
    );
    assert!(log.contains(message), "expected {message:?} in:\n{log}");
    assert!(!log.contains("Address already in use"), "{log}");
}

/// How many times two daemons race for one socket: the window a lock-free start-up leaves is
/// microseconds wide, so one try would prove little.
const ROUNDS: usize = 40;

#[test]
fn daemons_started_together_on_one_socket_leave_exactly_one_running() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("race");
    let config = write_config(dir.path(), "vipd", &config(51, "192.0.2.100"));
    let socket = dir.path().join("vipd.sock");
    let gate = Gate::new(dir.path());
    for round in 0..ROUNDS {
        let mut pair = ["a", "b"].map(|name| {
            Vipd::run_gated(
                lan.node(1),
                &gate.path,
                &dir.path().join(format!("{name}{round}.log")),
                &args(&config, &socket, None),
                config.clone(),
                socket.clone(),
            )
        });
        gate.open(&pair.each_ref().map(Vipd::pid));
        assert!(
            wait_until(EVENTUALLY, || pair.iter_mut().any(|v| !v.is_running())),
            "round {round}: both daemons run on one socket:\n{}\n{}",
            pair[0].log(),
            pair[1].log()
        );
        let loser = pair.iter_mut().position(|v| !v.is_running()).unwrap();
        let (winner, loser) = match loser {
            0 => {
                let [l, w] = &mut pair;
                (w, l)
            }
            _ => {
                let [w, l] = &mut pair;
                (w, l)
            }
        };
        assert_refused(
            loser,
            &format!(
                "another vipd (pid {}) is already serving the control socket {}",
                winner.pid(),
                socket.display()
            ),
        );
        assert_answers(winner);
        // Killed, so that the next pair meets a stale socket and lock file.
        winner.signal(libc::SIGKILL);
        winner.wait_exit(EVENTUALLY);
    }
}

#[test]
fn daemons_in_two_namespaces_with_their_own_socket_and_pid_file_both_run() {
    if !kernel_tests_enabled() {
        return;
    }
    let (lan_a, lan_b) = (Lan::new(1), Lan::new(1));
    let dir = Scratch::new("two-ns");
    let vip = "192.0.2.100";
    let toml = write_config(dir.path(), "a", &config(51, vip));
    // The same interface and VRID, in another namespace, from a keepalived.conf (which cannot
    // name a control socket or pid file itself).
    let keepalived_conf = dir.path().join("b.conf");
    std::fs::write(
        &keepalived_conf,
        format!(
            "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
             priority 150\n  advert_int 0.1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let (socket_a, pid_a) = (dir.path().join("a.sock"), dir.path().join("a.pid"));
    let (socket_b, pid_b) = (dir.path().join("b.sock"), dir.path().join("b.pid"));
    let mut a = start(
        lan_a.node(1),
        dir.path(),
        "a",
        &toml,
        &socket_a,
        Some(&pid_a),
    );
    let args = [
        OsStr::new("--keepalived-conf"),
        keepalived_conf.as_os_str(),
        OsStr::new("--control-socket"),
        socket_b.as_os_str(),
        OsStr::new("--pid-file"),
        pid_b.as_os_str(),
        OsStr::new("--dataplane"),
        OsStr::new("socket"),
    ];
    let mut b = Vipd::run(
        lan_b.node(1),
        &dir.path().join("b.log"),
        &args,
        keepalived_conf.clone(),
        socket_b.clone(),
    );
    for (vipd, lan, pid_file) in [(&a, &lan_a, &pid_a), (&b, &lan_b, &pid_b)] {
        assert_answers(vipd);
        assert!(
            wait_until(EVENTUALLY, || lan.has_address(1, addr(vip))),
            "{}",
            vipd.log()
        );
        assert_eq!(
            std::fs::read_to_string(pid_file).unwrap(),
            format!("{}\n", vipd.pid())
        );
    }
    for (vipd, pid_file, socket) in [(&mut a, &pid_a, &socket_a), (&mut b, &pid_b, &socket_b)] {
        vipd.signal(libc::SIGTERM);
        assert_eq!(vipd.wait_exit(EVENTUALLY), Some(Some(0)), "{}", vipd.log());
        assert!(
            !pid_file.exists(),
            "the pid file is removed on a clean exit"
        );
        assert!(!socket.exists(), "and so is the control socket");
    }
}

#[test]
fn a_second_daemon_for_the_same_interface_and_vrid_is_refused() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("claim");
    let first_config = write_config(dir.path(), "first", &config(51, "192.0.2.100"));
    let first = start(
        lan.node(1),
        dir.path(),
        "first",
        &first_config,
        &dir.path().join("first.sock"),
        None,
    );
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, addr("192.0.2.100"))),
        "{}",
        first.log()
    );

    // Another socket, another VIP, but the same interface and VRID.
    let same = write_config(dir.path(), "same", &config(51, "192.0.2.101"));
    let mut second = start(
        lan.node(1),
        dir.path(),
        "second",
        &same,
        &dir.path().join("second.sock"),
        None,
    );
    assert_refused(
        &mut second,
        &format!(
            "instance `VI_51`: another vipd (pid {}) already runs VRID 51 (IPv4) on interface \
             eth0 in this network namespace",
            first.pid()
        ),
    );

    // Another VRID on the same interface runs beside the first, and leaves its VIP alone.
    let other = write_config(dir.path(), "other", &config(52, "192.0.2.102"));
    let third = start(
        lan.node(1),
        dir.path(),
        "third",
        &other,
        &dir.path().join("third.sock"),
        None,
    );
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, addr("192.0.2.102"))),
        "{}",
        third.log()
    );
    assert_answers(&first);
    assert_answers(&third);
    assert!(
        lan.has_address(1, addr("192.0.2.100")),
        "the third daemon removed the first one's VIP:\n{}",
        third.log()
    );
}

#[test]
fn a_restart_after_kill9_of_the_holder_succeeds() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("restart");
    let config = write_config(dir.path(), "vipd", &config(51, "192.0.2.100"));
    let socket = dir.path().join("vipd.sock");
    let pid_file = dir.path().join("vipd.pid");
    let mut first = start(
        lan.node(1),
        dir.path(),
        "first",
        &config,
        &socket,
        Some(&pid_file),
    );
    assert_answers(&first);
    first.signal(libc::SIGKILL);
    first.wait_exit(EVENTUALLY);
    assert!(
        socket.exists() && pid_file.exists(),
        "kill -9 leaves the socket and the pid file"
    );

    let second = start(
        lan.node(1),
        dir.path(),
        "second",
        &config,
        &socket,
        Some(&pid_file),
    );
    assert_answers(&second);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", second.pid()),
        "the stale pid file is replaced"
    );
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, addr("192.0.2.100"))),
        "{}",
        second.log()
    );
}

#[test]
fn a_pid_file_naming_a_running_vipd_is_not_taken() {
    if !kernel_tests_enabled() {
        return;
    }
    let (lan_a, lan_b) = (Lan::new(1), Lan::new(1));
    let dir = Scratch::new("pid-file");
    let config = write_config(dir.path(), "vipd", &config(51, "192.0.2.100"));
    let pid_file = dir.path().join("vipd.pid");
    let first = start(
        lan_a.node(1),
        dir.path(),
        "first",
        &config,
        &dir.path().join("first.sock"),
        Some(&pid_file),
    );
    assert_answers(&first);
    // Another namespace and socket: only the pid file is shared.
    let mut second = start(
        lan_b.node(1),
        dir.path(),
        "second",
        &config,
        &dir.path().join("second.sock"),
        Some(&pid_file),
    );
    assert_refused(
        &mut second,
        &format!(
            "the pid file {} names a running vipd (pid {})",
            pid_file.display(),
            first.pid()
        ),
    );
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", first.pid())
    );
}

#[test]
fn cleanup_leaves_a_live_daemons_vips_alone() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("cleanup");
    let config = write_config(dir.path(), "vipd", &config(51, "192.0.2.100"));
    let mut live = start(
        lan.node(1),
        dir.path(),
        "live",
        &config,
        &dir.path().join("live.sock"),
        None,
    );
    let vip = addr("192.0.2.100");
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, vip)),
        "{}",
        live.log()
    );
    let cleanup = || {
        let out = Command::new("ip")
            .args(["netns", "exec", lan.node(1).name()])
            .arg(vipd_tests::vipd::binary())
            .arg("cleanup")
            .output()
            .expect("vipd cleanup");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let refused = cleanup();
    assert!(
        refused.contains("another vipd runs in this network namespace"),
        "{refused}"
    );
    assert!(
        lan.has_address(1, vip),
        "cleanup removed a live daemon's VIP"
    );

    live.signal(libc::SIGKILL);
    live.wait_exit(EVENTUALLY);
    cleanup();
    assert!(!lan.has_address(1, vip), "the dead daemon's VIP stays");
}

#[test]
fn a_reload_claims_new_instances_and_gives_back_removed_ones() {
    if !kernel_tests_enabled() {
        return;
    }
    let lan = Lan::new(1);
    let dir = Scratch::new("reload");
    let a_config = write_config(dir.path(), "a", &config(51, "192.0.2.100"));
    let a = start(
        lan.node(1),
        dir.path(),
        "a",
        &a_config,
        &dir.path().join("a.sock"),
        None,
    );
    assert_answers(&a);
    let b_config = write_config(dir.path(), "b", &config(52, "192.0.2.102"));
    let b = start(
        lan.node(1),
        dir.path(),
        "b",
        &b_config,
        &dir.path().join("b.sock"),
        None,
    );
    let both_up =
        || lan.has_address(1, addr("192.0.2.100")) && lan.has_address(1, addr("192.0.2.102"));
    assert!(wait_until(EVENTUALLY, both_up), "{}\n{}", a.log(), b.log());

    // b grows an instance that a runs: refused, and b keeps what it has.
    let grown = [config(52, "192.0.2.102"), config(51, "192.0.2.101")].concat();
    std::fs::write(&b_config, grown).unwrap();
    b.signal(libc::SIGHUP);
    let refusal = format!(
        "reload refused, the running configuration stays: instance `VI_51`: another vipd (pid {}) \
         already runs VRID 51 (IPv4) on interface eth0",
        a.pid()
    );
    assert!(
        wait_until(EVENTUALLY, || b.log().contains(&refusal)),
        "{}",
        b.log()
    );
    assert!(both_up(), "{}", b.log());

    // b moves from VRID 52 to 53: 52 is given back, and a third daemon can run it.
    std::fs::write(&b_config, config(53, "192.0.2.103")).unwrap();
    b.signal(libc::SIGHUP);
    assert!(
        wait_until(EVENTUALLY, || b.log().contains("configuration reloaded")),
        "{}",
        b.log()
    );
    let c_config = write_config(dir.path(), "c", &config(52, "192.0.2.104"));
    let c = start(
        lan.node(1),
        dir.path(),
        "c",
        &c_config,
        &dir.path().join("c.sock"),
        None,
    );
    assert_answers(&c);
    assert!(
        wait_until(EVENTUALLY, || lan.has_address(1, addr("192.0.2.104"))),
        "{}",
        c.log()
    );
}
