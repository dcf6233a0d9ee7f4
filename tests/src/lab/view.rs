//! The full-screen view of the [`Model`], drawn with ratatui: the nodes, the client's answers
//! as a sparkline per node, the last fault's timeline, the log and the keys. It draws; it
//! neither reads a clock nor changes the model.
use ratatui::{
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table},
    Frame,
};
use vipd::control::status::StateName;

use super::{
    keys,
    model::{Model, Node},
    rate::Rate,
    rig::PROBE_INTERVAL,
    takeover::Takeover,
    times::{span, Now},
    INTERVAL,
};

/// A node whose last answer is older than this is shown as not answering.
const STALE_NS: u64 = 2_000_000_000;
/// The four points of a takeover's timeline, and how wide their labels are.
const POINT_LABEL: usize = 12;

pub fn draw(frame: &mut Frame, model: &Model, now: &Now) {
    let nodes = model.nodes.len() as u16;
    let [header, nodes_area, client, timeline, events, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(nodes + 3),
        Constraint::Length(nodes + 3),
        Constraint::Length(8),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("vipd lab", Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!("  {}  {}", now.clock_of(now.mono_ns), model.setup)),
        ])),
        header,
    );
    draw_nodes(frame, nodes_area, model, now);
    draw_client(frame, client, model);
    draw_timeline(frame, timeline, model.last_fault.as_ref(), now);
    draw_events(frame, events, model, now);
    frame.render_widget(
        Paragraph::new(format!("keys: {}", keys::help())).style(Style::new().fg(Color::Cyan)),
        footer,
    );
}

fn draw_nodes(frame: &mut Frame, area: Rect, model: &Model, now: &Now) {
    let header = Row::new([
        "node",
        "state",
        "priority",
        "adverts/s out",
        "in",
        "answered",
        "fault",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows = model.nodes.iter().map(|node| {
        let (state, style) = state_of(node, now);
        let priority = node.status.map_or(String::new(), |(_, s)| {
            if s.priority == s.base_priority {
                s.priority.to_string()
            } else {
                format!("{} (base {})", s.priority, s.base_priority)
            }
        });
        // A node that does not answer has no rate to show, only the last one it had.
        let answering = node.status.is_some() && !is_silent(node, now);
        let rate = |rate: &Rate| match rate.per_second() {
            Some(r) if answering => format!("{r:.0}"),
            _ => "-".into(),
        };
        Row::new([
            Cell::from(format!("node {}", node.number)),
            Cell::from(state).style(style),
            Cell::from(priority),
            Cell::from(rate(&node.sent)),
            Cell::from(rate(&node.received)),
            Cell::from(node.status.map_or("not yet".into(), |(at, _)| now.ago(at))),
            Cell::from(node.fault.map_or(String::new(), |f| f.to_string()))
                .style(Style::new().fg(Color::Red)),
        ])
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(15),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(11),
        Constraint::Min(10),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(titled("nodes (from each vipd's control socket)".into())),
        area,
    );
}

/// A node's state as shown: what its control socket said, or why it says nothing now.
fn state_of(node: &Node, now: &Now) -> (String, Style) {
    match node.status {
        None => ("starting".into(), Style::new().fg(Color::DarkGray)),
        Some(_) if is_silent(node, now) => ("no answer".into(), Style::new().fg(Color::Red)),
        Some((_, status)) => {
            let color = match status.state {
                StateName::Master => Color::Green,
                StateName::Backup => Color::Yellow,
                StateName::Fault => Color::Red,
                StateName::Initialize => Color::DarkGray,
            };
            (
                status.state.name().into(),
                Style::new().fg(color).add_modifier(Modifier::BOLD),
            )
        }
    }
}

/// Whether the node's control socket failed, or has not answered for a while (a frozen
/// daemon accepts the connection and never answers).
fn is_silent(node: &Node, now: &Now) -> bool {
    node.silence.is_some()
        || node
            .status
            .is_some_and(|(at, _)| now.mono_ns.saturating_sub(at) > STALE_NS)
}

fn draw_client(frame: &mut Frame, area: Rect, model: &Model) {
    let per_interval = (INTERVAL.as_nanos() / PROBE_INTERVAL.as_nanos()) as u64;
    let (total, from) = model.last_answers();
    let title = match from {
        Some(node) => format!(
            "client: {total} answers in the last {} ms, from node {node}",
            INTERVAL.as_millis()
        ),
        None => format!("client: no answer in the last {} ms", INTERVAL.as_millis()),
    };
    let block = titled(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let label_width = 8u16;
    let width = usize::from(inner.width.saturating_sub(label_width));
    // Scaled to what the client got, not to what it sent: a debug build or a loaded machine
    // answers fewer, and the shape is what matters.
    let max = model
        .intervals
        .iter()
        .flat_map(|i| i.per_node.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    for (row, node) in model.nodes.iter().enumerate() {
        let y = inner.y + row as u16;
        if y >= inner.y + inner.height {
            break;
        }
        let index = usize::from(node.number) - 1;
        let skip = model.intervals.len().saturating_sub(width);
        let data: Vec<u64> = model
            .intervals
            .iter()
            .skip(skip)
            .map(|i| i.per_node[index])
            .collect();
        frame.render_widget(
            Paragraph::new(format!("node {}", node.number)),
            Rect::new(inner.x, y, label_width.min(inner.width), 1),
        );
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .max(max)
                .style(Style::new().fg(node_color(node.number))),
            Rect::new(
                inner.x + label_width,
                y,
                inner.width.saturating_sub(label_width),
                1,
            ),
        );
    }
    let legend_y = inner.y + model.nodes.len() as u16;
    if legend_y < inner.y + inner.height {
        frame.render_widget(
            Paragraph::new(format!(
                "answers per {} ms, newest on the right (full height: {max}; {per_interval} sent)",
                INTERVAL.as_millis()
            ))
            .style(Style::new().fg(Color::DarkGray)),
            Rect::new(inner.x, legend_y, inner.width, 1),
        );
    }
}

fn node_color(node: u8) -> Color {
    [Color::Green, Color::Magenta, Color::Blue, Color::Yellow][usize::from(node - 1) % 4]
}

fn draw_timeline(frame: &mut Frame, area: Rect, takeover: Option<&Takeover>, now: &Now) {
    let Some(takeover) = takeover else {
        frame.render_widget(
            Paragraph::new("no fault yet: press c, k, s or t").block(titled("last fault".into())),
            area,
        );
        return;
    };
    let outcome = match (takeover.new_master(), takeover.unanswered) {
        (Some(node), _) => format!("node {node} took over"),
        (None, true) => format!(
            "no other node answered within {} s",
            super::takeover::ANSWER_PATIENCE.as_secs()
        ),
        (None, false) => "waiting for another node to answer".into(),
    };
    let title = format!(
        "last fault: {} on node {} at {} ({}): {outcome}",
        takeover.scenario,
        takeover.old,
        now.clock_of(takeover.fault_ns),
        now.ago(takeover.fault_ns)
    );
    let fault = takeover.fault_ns;
    let reading_log = takeover.log_wanted(now.mono_ns).is_some();
    let logged = |at: Option<u64>| match at {
        Some(at) => Point::At(at),
        None if takeover.first_reply.is_none() && !takeover.unanswered => Point::Waiting,
        None if reading_log => Point::Waiting,
        None => Point::NotSeen,
    };
    let first_reply = match takeover.first_reply {
        Some(reply) => Point::At(reply.at_ns),
        None if takeover.unanswered => Point::NotSeen,
        None => Point::Waiting,
    };
    let points = [
        ("fault", Point::At(fault)),
        ("decision", logged(takeover.hops.decision_ns)),
        ("VIP added", logged(takeover.hops.vip_added_ns)),
        ("first reply", first_reply),
    ];
    let longest = points
        .iter()
        .filter_map(|(_, p)| match p {
            Point::At(at) => Some(at.saturating_sub(fault)),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let bar_room = usize::from(area.width).saturating_sub(POINT_LABEL + 16);
    let mut lines: Vec<Line> = points
        .iter()
        .map(|(label, point)| {
            let (offset, bar) = match point {
                Point::At(at) => {
                    let after = at.saturating_sub(fault);
                    let cells = (after as f64 / longest as f64 * bar_room as f64).round() as usize;
                    (span(fault, (*at).max(fault)), "█".repeat(cells.max(1)))
                }
                Point::Waiting => ("…".into(), String::new()),
                Point::NotSeen => ("not seen".into(), String::new()),
            };
            Line::from(vec![
                Span::raw(format!("{label:<POINT_LABEL$}{offset:>10}  ")),
                Span::styled(bar, Style::new().fg(Color::Cyan)),
            ])
        })
        .collect();
    if let Some(outage) = takeover.outage_ns() {
        lines.push(Line::from(format!(
            "client outage {}: its last reply from node {} to its first from node {}",
            span(0, outage),
            takeover.old,
            takeover.new_master().expect("an outage has an end")
        )));
    }
    frame.render_widget(Paragraph::new(lines).block(titled(title)), area);
}

/// One point of the timeline as far as the lab knows it.
enum Point {
    At(u64),
    Waiting,
    NotSeen,
}

fn draw_events(frame: &mut Frame, area: Rect, model: &Model, now: &Now) {
    let room = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = model
        .recent_events(room)
        .map(|e| Line::from(format!("{}  {}", now.clock_of(e.at_ns), e.text)))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(titled("log".into())), area);
}

fn titled(title: String) -> Block<'static> {
    Block::default().borders(Borders::ALL).title(title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{
        model::fixtures::{steady, taken_over, MS},
        times::fixtures::noon,
    };
    use ratatui::{backend::TestBackend, Terminal};

    /// The screen `model` draws at `now`, one string per row.
    fn screen(model: &Model, now: &Now, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        terminal
            .draw(|frame| draw(frame, model, now))
            .expect("draw");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    fn row_with<'a>(screen: &'a [String], text: &str) -> &'a str {
        screen
            .iter()
            .find(|row| row.contains(text))
            .unwrap_or_else(|| panic!("no row with {text:?} in\n{}", screen.join("\n")))
    }

    #[test]
    fn a_steady_group_shows_master_backup_rates_and_its_answers() {
        let now = noon();
        let screen = screen(&steady(), &now, 100, 30);
        let master = row_with(&screen, "│node 1 ");
        assert!(master.contains("MASTER"), "{master}");
        assert!(master.contains("200"), "{master}");
        assert!(master.contains("5000"), "{master}");
        let backup = row_with(&screen, "│node 2 ");
        assert!(backup.contains("BACKUP"), "{backup}");
        assert!(backup.contains("190"), "{backup}");
        row_with(
            &screen,
            "client: 10000 answers in the last 200 ms, from node 1",
        );
        row_with(&screen, "no fault yet");
        row_with(
            &screen,
            "keys: c = cable pull, k = kill -9, s = SIGSTOP, t = graceful stop, r = repair",
        );
        row_with(&screen, "12:00:00");
    }

    #[test]
    fn a_takeover_shows_the_new_master_and_all_four_points() {
        let mut now = noon();
        now.mono_ns = 100_000 * MS + 3_200 * MS;
        let mut model = taken_over();
        let new_master = model.nodes[1].status.expect("answered").1;
        model.node_answered(2, now.mono_ns, new_master);
        let screen = screen(&model, &now, 100, 30);
        row_with(
            &screen,
            "last fault: cable pull on node 1 at 11:59:56 (3.2 s ago): node 2 took over",
        );
        assert!(row_with(&screen, "│fault ").contains("0 us"));
        assert!(row_with(&screen, "decision").contains("682 us"));
        assert!(row_with(&screen, "VIP added").contains("701 us"));
        let first = row_with(&screen, "first reply");
        assert!(first.contains("1.30 ms") && first.contains('█'), "{first}");
        row_with(&screen, "client outage 1.21 ms");
        assert!(row_with(&screen, "│node 1 ").contains("cable pull"));
        assert!(row_with(&screen, "│node 2 ").contains("MASTER"));
        row_with(&screen, "11:59:56  cable pull on node 1");
        row_with(
            &screen,
            "client: 45 answers in the last 200 ms, from node 2",
        );
    }

    #[test]
    fn a_node_that_stopped_answering_says_so() {
        let mut now = noon();
        now.mono_ns = 100_000 * MS + 5_000 * MS;
        let mut model = steady();
        model.node_answered(2, now.mono_ns, model.nodes[1].status.expect("answered").1);
        let screen = screen(&model, &now, 100, 30);
        let stale = row_with(&screen, "│node 1 ");
        assert!(
            stale.contains("no answer") && stale.contains("5.0 s ago"),
            "{stale}"
        );
        assert!(
            !stale.contains("5000"),
            "no rate for a silent node: {stale}"
        );
        assert!(row_with(&screen, "│node 2 ").contains("BACKUP"));
    }

    #[test]
    fn missing_points_wait_then_read_not_seen() {
        let mut model = steady();
        model.fault_injected(
            crate::bench::fault::Scenario::Sigstop,
            1,
            100_000 * MS,
            vec![0, 0],
        );
        let mut now = noon();
        let waiting = screen(&model, &now, 100, 30);
        row_with(&waiting, "waiting for another node to answer");
        assert!(row_with(&waiting, "decision").contains('…'));
        model.replies(&[], 100_000 * MS + 11_000 * MS);
        now.mono_ns = 100_000 * MS + 11_000 * MS;
        let given_up = screen(&model, &now, 100, 30);
        row_with(&given_up, "no other node answered within 10 s");
        assert!(row_with(&given_up, "first reply").contains("not seen"));
    }

    #[test]
    fn a_tiny_terminal_does_not_break_it() {
        for (width, height) in [(1, 1), (9, 40), (1, 40), (20, 10), (40, 12)] {
            screen(&taken_over(), &noon(), width, height);
        }
    }

    #[test]
    fn fits_a_small_terminal() {
        let now = noon();
        let screen = screen(&taken_over(), &now, 80, 24);
        row_with(&screen, "first reply");
        row_with(&screen, "keys: ");
    }
}
