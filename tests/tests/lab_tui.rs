//! The lab's full-screen view as a person uses it: `vipd-harness lab` with its defaults (plain
//! veths, vipd's default attach) in a detached tmux session of a fixed size, read with
//! `capture-pane` and driven with `send-keys`, one key at a time and no Enter. A cable pull must
//! show the backup as the new master and the fault's whole timeline; `q` must end the lab and
//! leave no namespace behind.
mod lab_support;

use std::{
    fs,
    process::{Command, Output},
    time::{Duration, Instant},
};

use lab_support::{harness, has_clock_time, has_duration, namespaces_of};
use vipd_tests::{kernel_tests_enabled, vipd::Scratch};

/// A generous bound for "eventually" (the lab builds namespaces and starts daemons on a busy
/// machine); the test polls, it asserts no time.
const PATIENCE: Duration = Duration::from_secs(90);
const WIDTH: u16 = 100;
const HEIGHT: u16 = 32;

/// A tmux server of the test's own (its own socket, no user configuration) running one
/// session; killed on drop, after asking the lab to quit if it still runs.
struct Tmux {
    socket: String,
    _dir: Scratch,
}

impl Tmux {
    fn start(command: &str) -> Self {
        let dir = Scratch::new("lab-tui");
        // The pane stays after its command exits, so the test can read how it exited.
        let config = dir.path().join("tmux.conf");
        fs::write(&config, "set -g remain-on-exit on\n").expect("tmux.conf");
        let tmux = Self {
            socket: vipd_testkit::unique_name("tmux"),
            _dir: dir,
        };
        let (width, height) = (WIDTH.to_string(), HEIGHT.to_string());
        let config = config.to_str().expect("UTF-8 path");
        tmux.run(&[
            "-f",
            config,
            "new-session",
            "-d",
            "-s",
            "lab",
            "-x",
            &width,
            "-y",
            &height,
            command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux (the bootstrap installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn pane(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "lab", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "lab"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen, or `None` once the tmux server is gone (never panics: drop uses it).
    fn try_screen(&self) -> Option<String> {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "lab"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "lab", key]);
    }

    /// The lab's exit status once it exited, as the pane's shell prints it after the lab
    /// (see [`EXITED`]). Read off the screen rather than from tmux's `pane_dead_status`: tmux
    /// sometimes never reaps a command that exits on its own (the lab stayed a zombie under a
    /// dead pane in 1 of about 10 runs), while the shell always reaps its child.
    fn exit_status(&self) -> Option<i32> {
        exit_status_on(&self.screen())
    }
    /// Polls the screen until `ready` holds for it; returns that screen.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                self.exit_status().is_none(),
                "the lab exited while waiting for {what}:\n{screen}"
            );
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let running = || {
            self.try_screen()
                .is_some_and(|screen| exit_status_on(&screen).is_none())
        };
        if running() {
            let _ = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "lab", "q"])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while running() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The row of node `n` in the nodes table (the first row naming it: the table comes first).
fn node_row(screen: &str, n: u8) -> &str {
    screen
        .lines()
        .find(|line| line.starts_with(&format!("│node {n} ")))
        .unwrap_or_default()
}

/// The timeline's row for `point`, if its time is known.
fn point_row<'a>(screen: &'a str, point: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|line| line.starts_with(&format!("│{point} ")))
        .filter(|line| has_duration(line))
}

/// What the pane's shell prints after the lab, followed by its exit status.
const EXITED: &str = "lab exited with status";

/// The lab's exit status if `screen` shows the shell's line after it.
fn exit_status_on(screen: &str) -> Option<i32> {
    screen
        .lines()
        .find_map(|line| line.trim().strip_prefix(EXITED)?.trim().parse().ok())
}

/// The lab: the one child of the pane's shell, once the shell has started it.
fn lab_pid(shell: u32) -> u32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let children =
            fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().expect("a pid");
        }
        assert!(Instant::now() < deadline, "the shell never started the lab");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const POINTS: [&str; 4] = ["fault", "decision", "VIP added", "first reply"];

#[test]
fn a_cable_pull_shows_the_takeover_and_its_timeline_and_q_tears_down() {
    if !kernel_tests_enabled() {
        return;
    }
    let tmux = Tmux::start(&format!(
        "{} lab; echo \"{EXITED} $?\"",
        harness().display()
    ));
    // The pane's shell runs the lab as its child, whose pid names its namespaces.
    let shell: u32 = tmux.pane("#{pane_pid}").parse().expect("a pid");
    let pid = lab_pid(shell);

    let steady = tmux.wait_for("node 1 master, node 2 backup, the client answered", |s| {
        node_row(s, 1).contains("MASTER")
            && node_row(s, 2).contains("BACKUP")
            && s.contains("from node 1")
    });
    assert!(
        steady.contains("no fault yet"),
        "a fault before any key:\n{steady}"
    );
    assert!(
        has_clock_time(steady.lines().next().unwrap_or_default()),
        "the header shows the wall clock:\n{steady}"
    );

    tmux.press("c");
    let taken_over = tmux.wait_for("node 2 master and the four points of the timeline", |s| {
        node_row(s, 2).contains("MASTER")
            && s.contains("last fault: cable pull on node 1 at ")
            && s.contains("node 2 took over")
            && POINTS.iter().all(|p| point_row(s, p).is_some())
    });
    assert!(
        node_row(&taken_over, 1).contains("cable pull"),
        "node 1 shows its fault:\n{taken_over}"
    );
    assert!(
        taken_over.contains(" s ago)"),
        "the fault's age:\n{taken_over}"
    );

    tmux.press("q");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = tmux.exit_status() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "q did not end the lab:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, 0, "the lab's exit:\n{}", tmux.screen());
    assert_eq!(
        namespaces_of(pid),
        Vec::<String>::new(),
        "the lab left namespaces"
    );
}
