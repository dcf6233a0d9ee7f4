//! Plain mode, for pipes and logs (`--plain`, or stdout not a terminal): one line per interval
//! with what the client saw and each node's state, and every event as it happens, each line
//! stamped with the wall clock.
use super::{model::Model, times::Now, INTERVAL};

#[derive(Default)]
pub struct Printer {
    /// How many of the model's events are printed already.
    events_printed: usize,
}

impl Printer {
    /// Prints the events noted since the last call, then the status line.
    pub fn print(&mut self, model: &Model, now: &Now) {
        for line in self.lines(model, now) {
            println!("{line}");
        }
    }

    fn lines(&mut self, model: &Model, now: &Now) -> Vec<String> {
        let (events, count) = model.events_since(self.events_printed);
        let mut lines: Vec<String> = events
            .map(|e| format!("{} lab: {}", now.clock_of(e.at_ns), e.text))
            .collect();
        self.events_printed = count;
        lines.push(status_line(model, now));
        lines
    }
}

/// "12:00:00 master: node 1   client: 9998 answers in the last 200 ms   nodes: 1 MASTER, 2 BACKUP"
fn status_line(model: &Model, now: &Now) -> String {
    let (answers, from) = model.last_answers();
    let client = match from {
        Some(node) => format!(
            "master: node {node}   client: {answers} answers in the last {} ms, from node {node}",
            INTERVAL.as_millis()
        ),
        None => format!(
            "master: ?        client: no answer in the last {} ms",
            INTERVAL.as_millis()
        ),
    };
    let nodes: Vec<String> = model
        .nodes
        .iter()
        .map(|node| {
            let state = match (node.status, &node.silence) {
                (None, _) => "starting",
                (Some(_), Some(_)) => "no answer",
                (Some((_, status)), None) => status.state.name(),
            };
            let fault = node.fault.map_or(String::new(), |f| format!(" ({f})"));
            format!("{} {state}{fault}", node.number)
        })
        .collect();
    format!(
        "{} {client}   nodes: {}",
        now.clock_of(now.mono_ns),
        nodes.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{
        model::fixtures::{steady, taken_over, MS},
        times::fixtures::noon,
    };

    #[test]
    fn prints_the_status_with_the_wall_clock() {
        let mut printer = Printer::default();
        assert_eq!(
            printer.lines(&steady(), &noon()),
            ["12:00:00 master: node 1   client: 10000 answers in the last 200 ms, from node 1   \
              nodes: 1 MASTER, 2 BACKUP"]
        );
    }

    #[test]
    fn prints_each_event_once_in_human_times() {
        let mut now = noon();
        now.mono_ns = 100_000 * MS + 1_000 * MS;
        let model = taken_over();
        let mut printer = Printer::default();
        let lines = printer.lines(&model, &now);
        assert_eq!(
            lines,
            [
                "11:59:59 lab: cable pull on node 1",
                "11:59:59 lab: node 2 answers 1.30 ms after the cable pull (client outage 1.21 ms)",
                "11:59:59 lab: node 2 logged its decision 682 us and the VIP added 701 us after \
                 the fault",
                "12:00:00 master: node 2   client: 45 answers in the last 200 ms, from node 2   \
                 nodes: 1 MASTER (cable pull), 2 MASTER",
            ]
        );
        assert_eq!(printer.lines(&model, &now).len(), 1, "events print once");
    }
}
