//! What a person types, and what it means: one key per command, the same in both front ends.
//! On the full screen a key acts as it is pressed (the terminal is in raw mode, so Ctrl-C
//! arrives here as a key); in plain mode a line on stdin carries it, as a pipe can.
use std::{
    io::BufRead,
    sync::mpsc,
    time::{Duration, Instant},
};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::bench::fault::Scenario;

/// What a key asks of the lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Put this fault on the node the client reaches.
    Fault(Scenario),
    /// Undo every fault the lab put on.
    Repair,
    Quit,
    /// A key that means nothing: the help is shown.
    Unknown,
}

/// Every key and what it does, for the help line: one list, so the help cannot drift from
/// [`command_of`].
pub const KEYS: [(char, Command); 6] = [
    ('c', Command::Fault(Scenario::Cable)),
    ('k', Command::Fault(Scenario::Kill9)),
    ('s', Command::Fault(Scenario::Sigstop)),
    ('t', Command::Fault(Scenario::Sigterm)),
    ('r', Command::Repair),
    ('q', Command::Quit),
];

pub fn command_of(key: char) -> Command {
    let key = key.to_ascii_lowercase();
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map_or(Command::Unknown, |(_, command)| *command)
}

/// What each key does, in a few words (a fault: the benchmark's name for it, put on the
/// master).
pub fn describe(command: Command) -> String {
    match command {
        Command::Fault(scenario) => scenario.to_string(),
        Command::Repair => "repair".into(),
        Command::Quit => "quit".into(),
        Command::Unknown => String::new(),
    }
}

/// The help line: "c = cable pull, k = kill -9, ...".
pub fn help() -> String {
    KEYS.iter()
        .map(|(key, command)| format!("{key} = {}", describe(*command)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where commands come from.
pub enum Keys {
    /// Key presses on the terminal (raw mode).
    Terminal,
    /// Lines on stdin, read by a background thread (the first character is the key).
    Lines(mpsc::Receiver<String>),
}

impl Keys {
    /// Lines typed on stdin, from a background thread.
    pub fn lines() -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Keys::Lines(rx)
    }

    /// The next command, waiting at most until `until`. `None`: nothing came, or only what
    /// is not a command (a resize, an empty line): the caller redraws on its tick anyway.
    pub fn next(&self, until: Instant) -> Result<Option<Command>, String> {
        let timeout = until.saturating_duration_since(Instant::now());
        match self {
            Keys::Terminal => {
                if !event::poll(timeout).map_err(|e| format!("reading the terminal: {e}"))? {
                    return Ok(None);
                }
                let event = event::read().map_err(|e| format!("reading the terminal: {e}"))?;
                Ok(command_of_event(&event))
            }
            Keys::Lines(lines) => match lines.recv_timeout(timeout) {
                Ok(line) => Ok(line.trim().chars().next().map(command_of)),
                Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
                // stdin closed (a pipe, /dev/null): the lab runs on until --duration or Ctrl-C.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(timeout.min(Duration::from_millis(200)));
                    Ok(None)
                }
            },
        }
    }
}

/// The command a terminal event asks for: a key press; Ctrl-C quits.
fn command_of_event(event: &Event) -> Option<Command> {
    let Event::Key(key) = event else {
        return None;
    };
    if key.kind != KeyEventKind::Press {
        return None;
    }
    match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Command::Quit),
        KeyCode::Char(c) => Some(command_of(c)),
        KeyCode::Esc => Some(Command::Quit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEvent, KeyEventState};

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn each_key_has_one_command() {
        assert_eq!(command_of('c'), Command::Fault(Scenario::Cable));
        assert_eq!(command_of('K'), Command::Fault(Scenario::Kill9));
        assert_eq!(command_of('s'), Command::Fault(Scenario::Sigstop));
        assert_eq!(command_of('t'), Command::Fault(Scenario::Sigterm));
        assert_eq!(command_of('r'), Command::Repair);
        assert_eq!(command_of('q'), Command::Quit);
        assert_eq!(command_of('x'), Command::Unknown);
    }

    #[test]
    fn ctrl_c_and_escape_quit_and_plain_c_pulls_the_cable() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            command_of_event(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            command_of_event(&press(KeyCode::Char('c'), none)),
            Some(Command::Fault(Scenario::Cable))
        );
        assert_eq!(
            command_of_event(&press(KeyCode::Esc, none)),
            Some(Command::Quit)
        );
        assert_eq!(command_of_event(&press(KeyCode::Up, none)), None);
        assert_eq!(command_of_event(&Event::Resize(80, 24)), None);
    }

    #[test]
    fn the_help_names_every_key() {
        let help = help();
        for (key, _) in KEYS {
            assert!(help.contains(&format!("{key} = ")), "{help}");
        }
    }
}
