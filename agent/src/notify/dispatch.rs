//! Delivering notifications without ever blocking the state machine: the caller (a VRRP
//! timing thread, not necessarily inside tokio) hands an event to an unbounded channel and
//! returns. A dispatcher task writes the FIFO line at once, in global event order, and passes
//! the commands to a worker per instance or group, which runs them one after the other: a
//! slow MASTER script is never overtaken by the BACKUP one that follows it, while other
//! instances' notifications go ahead independently.
//!
//! For one event the order is keepalived's (`send_instance_notifies` in
//! keepalived/vrrp/vrrp_notify.c): the state's own command (`notify_master` / `_backup` /
//! `_fault` / `_stop`), then the generic `notify` with four arguments appended to its own:
//! `GROUP`|`INSTANCE`, the name, `MASTER`|`BACKUP`|`FAULT`|`STOP`, the priority (0 for a
//! group). keepalived forks these and does not wait, so its scripts can overlap and reorder;
//! vipd waits for each (bounded by its timeout) to keep them in order.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::{JoinHandle, JoinSet};

use super::fifo::{NotifyFifo, NotifyFifoError};
use crate::health::command::{self, CommandSpec};

/// Whether a notification is about one instance or a sync group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Instance,
    Group,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Subject::Instance => "INSTANCE",
            Subject::Group => "GROUP",
        })
    }
}

/// The state a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyState {
    Master,
    Backup,
    Fault,
    /// vipd is stopping (only sent for instances in keepalived; vipd does not enforce that).
    Stop,
}

impl fmt::Display for NotifyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
        })
    }
}

/// The notify commands of one instance or group, as configured. Each carries its own user and
/// timeout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyCommands {
    pub master: Option<CommandSpec>,
    pub backup: Option<CommandSpec>,
    pub fault: Option<CommandSpec>,
    pub stop: Option<CommandSpec>,
    /// keepalived's `notify`: run after the state's own command, with the four arguments.
    pub generic: Option<CommandSpec>,
}

impl NotifyCommands {
    fn for_state(&self, state: NotifyState) -> Option<&CommandSpec> {
        match state {
            NotifyState::Master => self.master.as_ref(),
            NotifyState::Backup => self.backup.as_ref(),
            NotifyState::Fault => self.fault.as_ref(),
            NotifyState::Stop => self.stop.as_ref(),
        }
    }
}

/// Who is notified about: built once per instance or group by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    pub subject: Subject,
    pub name: String,
    pub commands: NotifyCommands,
}

/// One state change to announce.
struct Notification {
    target: Arc<NotifyTarget>,
    state: NotifyState,
    priority: u8,
}

impl Notification {
    /// keepalived passes 0 as a group's priority.
    fn priority(&self) -> u8 {
        match self.target.subject {
            Subject::Instance => self.priority,
            Subject::Group => 0,
        }
    }

    /// The FIFO line, without its newline: `INSTANCE "VI_1" MASTER 100`.
    fn fifo_line(&self) -> String {
        format!(
            "{} \"{}\" {} {}",
            self.target.subject,
            self.target.name,
            self.state,
            self.priority()
        )
    }
}

/// The sending side, cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct Notifier {
    queue: UnboundedSender<Notification>,
    fifo_dropped: Arc<AtomicU64>,
}

impl Notifier {
    /// Starts the dispatcher on the current tokio runtime. With `fifo`, the FIFO is created if
    /// missing (an error here is a configuration error: the path is unusable).
    pub fn start(fifo: Option<PathBuf>) -> Result<(Notifier, NotifierDone), NotifyFifoError> {
        let fifo = fifo.map(|path| NotifyFifo::create(&path)).transpose()?;
        let fifo_dropped = fifo
            .as_ref()
            .map_or_else(|| Arc::new(AtomicU64::new(0)), NotifyFifo::dropped);
        let (queue, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(dispatch(receiver, fifo));
        Ok((
            Notifier {
                queue,
                fifo_dropped,
            },
            NotifierDone { task },
        ))
    }

    /// Notify FIFO lines dropped so far because no reader was there, the pipe was full or
    /// the reader went away (0 without a FIFO): a metric.
    pub fn fifo_lines_dropped(&self) -> u64 {
        self.fifo_dropped.load(Ordering::Relaxed)
    }

    /// Announces `state` for `target`. Never blocks: the commands run later, in order for this
    /// target. If the dispatcher is gone (runtime shutting down), the notification is dropped
    /// and logged.
    pub fn notify(&self, target: &Arc<NotifyTarget>, state: NotifyState, priority: u8) {
        let notification = Notification {
            target: target.clone(),
            state,
            priority,
        };
        if self.queue.send(notification).is_err() {
            tracing::warn!(name = %target.name, %state, "notifier stopped; notification dropped");
        }
    }
}

/// Completes once every [`Notifier`] clone is dropped and every queued command has run: the
/// daemon awaits it at shutdown so that STOP notifications are delivered.
pub struct NotifierDone {
    task: JoinHandle<()>,
}

impl NotifierDone {
    pub async fn wait(self) {
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "notify dispatcher ended abnormally");
        }
    }
}

async fn dispatch(mut queue: UnboundedReceiver<Notification>, mut fifo: Option<NotifyFifo>) {
    let mut workers: HashMap<(Subject, String), UnboundedSender<Notification>> = HashMap::new();
    let mut running = JoinSet::new();
    while let Some(notification) = queue.recv().await {
        if let Some(fifo) = fifo.as_mut() {
            fifo.write_line(&notification.fifo_line());
        }
        let target = &notification.target;
        if target.commands == NotifyCommands::default() {
            continue;
        }
        let key = (target.subject, target.name.clone());
        let worker = workers.entry(key).or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            running.spawn(run_in_order(receiver));
            sender
        });
        // A worker only ends when its sender is dropped, which happens below, after the loop.
        let _ = worker.send(notification);
    }
    drop(workers);
    while running.join_next().await.is_some() {}
}

async fn run_in_order(mut notifications: UnboundedReceiver<Notification>) {
    while let Some(notification) = notifications.recv().await {
        let target = &notification.target;
        let label = format!("notify {} {}", target.name, notification.state);
        if let Some(spec) = target.commands.for_state(notification.state) {
            run_logged(spec, &[], &label).await;
        }
        if let Some(spec) = &target.commands.generic {
            let subject = target.subject.to_string();
            let state = notification.state.to_string();
            let priority = notification.priority().to_string();
            let args = [
                subject.as_str(),
                target.name.as_str(),
                state.as_str(),
                priority.as_str(),
            ];
            run_logged(spec, &args, &label).await;
        }
    }
}

async fn run_logged(spec: &CommandSpec, args: &[&str], label: &str) {
    match command::run(spec, args, label).await {
        Ok(outcome) if outcome.success() => {
            tracing::debug!(command = label, "notify command done")
        }
        Ok(outcome) => tracing::warn!(command = label, ?outcome, "notify command failed"),
        Err(error) => tracing::warn!(command = label, %error, "notify command could not run"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(
        subject: Subject,
        name: &str,
        state: NotifyState,
        priority: u8,
    ) -> Notification {
        Notification {
            target: Arc::new(NotifyTarget {
                subject,
                name: name.to_owned(),
                commands: NotifyCommands::default(),
            }),
            state,
            priority,
        }
    }

    /// keepalived.conf(5): "a line of the form: INSTANCE "VI_1" MASTER 100"; groups carry 0.
    #[test]
    fn fifo_lines_in_keepalived_format() {
        let line = notification(Subject::Instance, "VI_1", NotifyState::Master, 100).fifo_line();
        assert_eq!(line, "INSTANCE \"VI_1\" MASTER 100");
        let line = notification(Subject::Group, "VG_1", NotifyState::Fault, 100).fifo_line();
        assert_eq!(line, "GROUP \"VG_1\" FAULT 0");
        let line = notification(Subject::Instance, "k8s", NotifyState::Stop, 0).fifo_line();
        assert_eq!(line, "INSTANCE \"k8s\" STOP 0");
    }
}
