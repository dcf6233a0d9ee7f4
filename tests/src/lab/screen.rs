//! The terminal while the full-screen view runs: raw mode and the alternate screen, restored
//! when this is dropped (q, Ctrl-C, an error) and by ratatui's panic hook before a panic's
//! message is printed, so that the message is readable and the shell usable afterwards.
use ratatui::DefaultTerminal;

use super::{model::Model, times::Now, view};

pub struct FullScreen {
    terminal: DefaultTerminal,
}

impl FullScreen {
    pub fn enter() -> Result<Self, String> {
        let terminal = ratatui::try_init().map_err(|e| {
            ratatui::restore();
            format!("setting up the terminal: {e}")
        })?;
        Ok(Self { terminal })
    }

    pub fn draw(&mut self, model: &Model, now: &Now) -> Result<(), String> {
        self.terminal
            .draw(|frame| view::draw(frame, model, now))
            .map(|_| ())
            .map_err(|e| format!("drawing: {e}"))
    }
}

impl Drop for FullScreen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
