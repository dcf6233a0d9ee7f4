//! The lab's state, the one thing both the full-screen view and the plain printer show: each
//! node as its control socket reports it (state, priority, adverts per second) and the fault
//! the lab put on it, the client's answers per interval and who gave them, the last fault's
//! timeline, and a log of what happened. It holds CLOCK_MONOTONIC instants only and reads no
//! clock: the loop feeds it, the front ends turn its instants into times a person reads.
use std::collections::VecDeque;

use vipd::control::status::StateName;

use super::{
    rate::Rate,
    takeover::{Progress, Takeover},
    times::span,
};
use crate::bench::{fault::Scenario, probe::Reply};

/// Intervals of client answers kept for the sparklines (at 200 ms, half a minute).
pub const HISTORY: usize = 150;
/// Events kept for the screen's log.
const EVENTS_KEPT: usize = 100;

/// What a node's control socket said about its (only) instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    pub state: StateName,
    pub priority: u8,
    pub base_priority: u8,
    /// Adverts that reached the node (its XDP program's count where it runs one).
    pub adverts_in: u64,
    pub adverts_out: u64,
}

/// One VRRP node.
#[derive(Clone, Debug)]
pub struct Node {
    /// 1-based, as the echo servers and the namespaces number it.
    pub number: u8,
    /// Its last answer, and when it came.
    pub status: Option<(u64, NodeStatus)>,
    /// Why its control socket did not answer the last time it was asked.
    pub silence: Option<String>,
    /// Adverts per second it sent and received, from its counters.
    pub sent: Rate,
    pub received: Rate,
    /// The fault the lab put on it and has not repaired.
    pub fault: Option<Scenario>,
}

impl Node {
    fn new(number: u8) -> Self {
        Self {
            number,
            status: None,
            silence: None,
            sent: Rate::default(),
            received: Rate::default(),
            fault: None,
        }
    }

    /// Takes an answer of its control socket at `at_ns`.
    fn answered(&mut self, at_ns: u64, status: NodeStatus) {
        self.sent.observe(at_ns, status.adverts_out);
        self.received.observe(at_ns, status.adverts_in);
        self.status = Some((at_ns, status));
        self.silence = None;
    }
}

/// The client's answers in one interval, per node (index 0 is node 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    pub per_node: Vec<u64>,
}

/// Something that happened, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at_ns: u64,
    pub text: String,
}

/// What the lab shows.
pub struct Model {
    /// What runs, in one line ("2 vipd nodes (vipd (XDP)), adverts every 200 us, ...").
    pub setup: String,
    pub nodes: Vec<Node>,
    /// The client's answers, oldest first, at most [`HISTORY`].
    pub intervals: VecDeque<Interval>,
    /// Each node's last reply to the client.
    last_reply_ns: Vec<Option<u64>>,
    /// The node that gave the client its latest reply, kept through intervals without one (a
    /// loaded machine answers in bursts): the node a fault is put on.
    pub holder: Option<u8>,
    pub last_fault: Option<Takeover>,
    /// What happened, oldest first, at most [`EVENTS_KEPT`]; `events_dropped` counts the ones
    /// dropped off the front, so that a printer can ask for what is new.
    events: VecDeque<Event>,
    events_dropped: usize,
}

impl Model {
    pub fn new(setup: String, nodes: usize) -> Self {
        Self {
            setup,
            nodes: (1..=nodes as u8).map(Node::new).collect(),
            intervals: VecDeque::with_capacity(HISTORY),
            last_reply_ns: vec![None; nodes],
            holder: None,
            last_fault: None,
            events: VecDeque::with_capacity(EVENTS_KEPT),
            events_dropped: 0,
        }
    }

    /// The client's replies of one interval, ending at `now_ns`.
    pub fn replies(&mut self, replies: &[Reply], now_ns: u64) {
        let mut per_node = vec![0; self.nodes.len()];
        for reply in replies {
            let index = usize::from(reply.node).wrapping_sub(1);
            if let Some(count) = per_node.get_mut(index) {
                *count += 1;
                self.last_reply_ns[index] = Some(reply.at_ns);
            }
        }
        if self.intervals.len() == HISTORY {
            self.intervals.pop_front();
        }
        self.intervals.push_back(Interval { per_node });
        if let Some(last) = replies.last() {
            self.holder = Some(last.node);
        }

        let Some(takeover) = &mut self.last_fault else {
            return;
        };
        let text = match takeover.observe(replies, now_ns) {
            Progress::Waiting => return,
            Progress::Answered => {
                let first = takeover.first_reply.expect("answered");
                format!(
                    "node {} answers {} after the {} (client outage {})",
                    first.node,
                    span(takeover.fault_ns, first.at_ns),
                    takeover.scenario,
                    takeover.outage_ns().map_or("-".into(), |o| span(0, o)),
                )
            }
            Progress::GaveUp => format!(
                "no other node answered within {} s of the {}",
                super::takeover::ANSWER_PATIENCE.as_secs(),
                takeover.scenario
            ),
        };
        self.note(now_ns, text);
    }

    /// The answers in the last interval: the count and the node that gave the most.
    pub fn last_answers(&self) -> (u64, Option<u8>) {
        let Some(last) = self.intervals.back() else {
            return (0, None);
        };
        let most = (1u8..)
            .zip(&last.per_node)
            .filter(|(_, count)| **count > 0)
            .max_by_key(|(_, count)| **count)
            .map(|(node, _)| node);
        (last.per_node.iter().sum(), most)
    }

    /// Node `number`'s control socket answered with `status` at `at_ns`.
    pub fn node_answered(&mut self, number: u8, at_ns: u64, status: NodeStatus) {
        if let Some(node) = self.node_mut(number) {
            node.answered(at_ns, status);
        }
    }

    /// Node `number`'s control socket did not answer.
    pub fn node_silent(&mut self, number: u8, why: String) {
        if let Some(node) = self.node_mut(number) {
            node.silence = Some(why);
        }
    }

    /// The lab put `scenario` on node `old` at `fault_ns`; `logs_from` is every node's log
    /// length just before.
    pub fn fault_injected(
        &mut self,
        scenario: Scenario,
        old: u8,
        fault_ns: u64,
        logs_from: Vec<usize>,
    ) {
        let last_old_ns = self.last_reply_ns[usize::from(old) - 1];
        self.last_fault = Some(Takeover::new(
            scenario,
            old,
            fault_ns,
            last_old_ns,
            logs_from,
        ));
        if let Some(node) = self.node_mut(old) {
            node.fault = Some(scenario);
        }
        self.note(fault_ns, format!("{scenario} on node {old}"));
    }

    /// The new master's log since the fault, while the timeline still misses its hops.
    pub fn new_master_log(&mut self, log: &str, now_ns: u64) {
        let Some(takeover) = &mut self.last_fault else {
            return;
        };
        takeover.read_log(log);
        if takeover.complete() {
            let (fault, hops) = (takeover.fault_ns, takeover.hops);
            let at = |ns: Option<u64>| ns.map_or("-".into(), |ns| span(fault, ns));
            let text = format!(
                "node {} logged its decision {} and the VIP added {} after the fault",
                takeover.new_master().expect("complete"),
                at(hops.decision_ns),
                at(hops.vip_added_ns),
            );
            self.note(now_ns, text);
        }
    }

    /// The lab repaired node `number` at `at_ns`.
    pub fn repaired(&mut self, number: u8, at_ns: u64) {
        if let Some(node) = self.node_mut(number) {
            if let Some(fault) = node.fault.take() {
                self.note(at_ns, format!("node {number} repaired ({fault} undone)"));
            }
        }
    }

    /// The nodes that carry a fault.
    pub fn faulted(&self) -> Vec<u8> {
        self.nodes
            .iter()
            .filter(|n| n.fault.is_some())
            .map(|n| n.number)
            .collect()
    }

    /// Adds `text` to the log.
    pub fn note(&mut self, at_ns: u64, text: String) {
        if self.events.len() == EVENTS_KEPT {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(Event { at_ns, text });
    }

    /// The events after the first `seen` ever noted, and the count noted so far.
    pub fn events_since(&self, seen: usize) -> (impl Iterator<Item = &Event>, usize) {
        let skip = seen.saturating_sub(self.events_dropped);
        (
            self.events.iter().skip(skip),
            self.events_dropped + self.events.len(),
        )
    }

    /// The last `count` events, oldest first.
    pub fn recent_events(&self, count: usize) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .skip(self.events.len().saturating_sub(count))
    }

    fn node_mut(&mut self, number: u8) -> Option<&mut Node> {
        self.nodes.get_mut(usize::from(number).wrapping_sub(1))
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub const MS: u64 = 1_000_000;

    pub fn status(state: StateName, priority: u8, adverts_in: u64, adverts_out: u64) -> NodeStatus {
        NodeStatus {
            state,
            priority,
            base_priority: priority,
            adverts_in,
            adverts_out,
        }
    }

    pub fn replies(node: u8, from_ns: u64, count: u64) -> Vec<Reply> {
        (0..count)
            .map(|i| Reply {
                at_ns: from_ns + i * 20_000,
                node,
                ..Reply::default()
            })
            .collect()
    }

    /// Two nodes a second apart in their answers, node 1 master, answering the client.
    pub fn steady() -> Model {
        let mut model = Model::new("2 vipd nodes".into(), 2);
        model.node_answered(1, 99_000 * MS, status(StateName::Master, 200, 0, 10_000));
        model.node_answered(2, 99_000 * MS, status(StateName::Backup, 190, 10_000, 0));
        model.node_answered(1, 100_000 * MS, status(StateName::Master, 200, 0, 15_000));
        model.node_answered(2, 100_000 * MS, status(StateName::Backup, 190, 15_000, 0));
        model.replies(&replies(1, 99_800 * MS, 10_000), 100_000 * MS);
        model
    }

    /// [`steady`], then a cable pull on node 1 taken over by node 2, its log read.
    pub fn taken_over() -> Model {
        let mut model = steady();
        let fault = 100_000 * MS;
        model.fault_injected(Scenario::Cable, 1, fault, vec![0, 0]);
        let mut after = replies(1, fault + 10_000, 5);
        after.extend(replies(2, fault + 1_300_000, 40));
        model.replies(&after, fault + 200 * MS);
        model.node_answered(
            2,
            fault + 200 * MS,
            status(StateName::Master, 190, 15_100, 5),
        );
        let log = format!(
            "{}\n{}\n",
            log_line("state changed", fault + 682_000),
            log_line("VIP added", fault + 701_000)
        );
        model.new_master_log(&log, fault + 200 * MS);
        model
    }

    fn log_line(message: &str, at_ns: u64) -> String {
        format!(
            r#"{{"timestamp":"2026-12-06T12:00:00.000000Z","level":"INFO","fields":{{"message":"{message}","to":"Master","at_mono_ns":{at_ns}}},"target":"vipd"}}"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{fixtures::*, *};

    #[test]
    fn adverts_per_second_come_from_the_counters() {
        let model = steady();
        assert_eq!(model.nodes[0].sent.per_second(), Some(5_000.0));
        assert_eq!(model.nodes[0].received.per_second(), None, "never moved");
        assert_eq!(model.nodes[1].received.per_second(), Some(5_000.0));
    }

    #[test]
    fn silence_is_kept_until_the_next_answer() {
        let mut model = steady();
        model.node_silent(1, "no vipd is listening".into());
        assert!(model.nodes[0].silence.is_some());
        assert!(model.nodes[0].status.is_some(), "the last answer stays");
        model.node_answered(1, 101_000 * MS, status(StateName::Master, 200, 0, 20_000));
        assert_eq!(model.nodes[0].silence, None);
    }

    #[test]
    fn answers_per_interval_say_who_answers() {
        let mut model = steady();
        assert_eq!(model.last_answers(), (10_000, Some(1)));
        assert_eq!(model.holder, Some(1));
        let mut mixed = replies(1, 0, 3);
        mixed.extend(replies(2, 100, 5));
        model.replies(&mixed, 0);
        assert_eq!(model.last_answers(), (8, Some(2)));
        model.replies(&[], 0);
        assert_eq!(model.last_answers(), (0, None));
        assert_eq!(model.holder, Some(2), "the latest reply's node");
        assert_eq!(model.intervals.len(), 3);
    }

    #[test]
    fn history_is_bounded() {
        let mut model = steady();
        for _ in 0..2 * HISTORY {
            model.replies(&[], 0);
        }
        assert_eq!(model.intervals.len(), HISTORY);
    }

    #[test]
    fn a_fault_is_followed_to_the_new_master_and_its_hops() {
        let model = taken_over();
        let takeover = model.last_fault.as_ref().expect("a fault");
        assert_eq!(takeover.new_master(), Some(2));
        assert!(takeover.complete());
        assert_eq!(model.nodes[0].fault, Some(Scenario::Cable));
        assert_eq!(model.faulted(), vec![1]);
        let texts: Vec<&str> = model.recent_events(10).map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "cable pull on node 1",
                "node 2 answers 1.30 ms after the cable pull (client outage 1.21 ms)",
                "node 2 logged its decision 682 us and the VIP added 701 us after the fault",
            ]
        );
    }

    #[test]
    fn repair_clears_the_fault_once() {
        let mut model = taken_over();
        model.repaired(1, 101_000 * MS);
        model.repaired(1, 101_000 * MS);
        assert_eq!(model.faulted(), Vec::<u8>::new());
        let (new, count) = model.events_since(3);
        let new: Vec<&str> = new.map(|e| e.text.as_str()).collect();
        assert_eq!(new, ["node 1 repaired (cable pull undone)"]);
        assert_eq!(count, 4);
    }

    #[test]
    fn events_since_survives_dropped_events() {
        let mut model = Model::new(String::new(), 1);
        for i in 0..EVENTS_KEPT + 5 {
            model.note(0, format!("e{i}"));
        }
        let (new, count) = model.events_since(EVENTS_KEPT + 3);
        let new: Vec<&str> = new.map(|e| e.text.as_str()).collect();
        assert_eq!(
            new,
            [
                format!("e{}", EVENTS_KEPT + 3),
                format!("e{}", EVENTS_KEPT + 4)
            ]
        );
        assert_eq!(count, EVENTS_KEPT + 5);
        assert_eq!(model.events_since(0).0.count(), EVENTS_KEPT);
    }
}
