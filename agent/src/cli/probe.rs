//! `vipd probe`: a client's view of takeover. It probes the VIP (answered by `vipd echo` on
//! each node) and prints each outage as it happens, the takeover after each fault `vipd fault`
//! records, and at the end a summary and histogram; `--json` and `--plot` write the benchmark's
//! JSON document and CDF plot.
use anyhow::{anyhow, Context, Result};
use std::{
    net::{SocketAddr, UdpSocket},
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::measure::{
    fault::record::FaultLog,
    plot,
    probe::Probe,
    session::{Session, Settings},
    stats::human_us,
};

#[derive(clap::Args)]
pub struct Options {
    /// The VIP and the port `vipd echo` answers on (9000 by default there).
    #[arg(value_name = "VIP:PORT")]
    target: SocketAddr,
    /// How often to send a probe.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "20us")]
    interval: Duration,
    /// Gaps that lose probes for at least this long are outages (a change of the node that
    /// answers is one however short).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1ms")]
    min_outage: Duration,
    /// Stop after this long (default: at Ctrl-C or SIGTERM).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Read the faults `vipd fault --log FILE` records from this file, as it grows, and report
    /// the takeover after each.
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Write the benchmark's JSON document (one sample per outage) to this file at the end.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the CDF plot (takeover per fault, outages) to this SVG file at the end.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// What runs on the nodes, as the samples name it.
    #[arg(long, default_value = "vipd")]
    system: String,
    /// The nodes' advert interval, recorded in the JSON (the probe cannot see it).
    #[arg(long, value_parser = humantime::parse_duration)]
    advert_interval: Option<Duration>,
}

pub fn run(opts: Options) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("catching Ctrl-C")?;
    }
    let local: SocketAddr = match opts.target {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).context("binding the probe's socket")?;
    let probe = Probe::start(socket, opts.target, opts.interval).context("starting the probe")?;
    println!(
        "vipd probe: {} every {} (Ctrl-C to stop)",
        opts.target,
        human_us(opts.interval.as_nanos() as f64 / 1e3)
    );
    let mut session = Session::new(Settings {
        system: opts.system.clone(),
        advert_interval: opts.advert_interval,
        probe_interval: opts.interval,
        min_outage: opts.min_outage,
    });
    let mut faults = opts.faults.clone().map(FaultLog::new);
    let started = Instant::now();
    let mut last_fault_read = Instant::now();
    while !stop.load(Ordering::SeqCst) && opts.duration.is_none_or(|d| started.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(10));
        print_lines(session.feed(&probe.take(), probe.names()));
        if let Some(log) = faults.as_mut() {
            if last_fault_read.elapsed() >= Duration::from_millis(100) {
                last_fault_read = Instant::now();
                let records = log.read_new().with_context(|| {
                    format!("reading {}", opts.faults.as_ref().expect("a log").display())
                })?;
                print_lines(session.add_faults(records));
            }
            print_lines(session.settle_faults());
        }
    }
    let sent = probe.sent();
    print_lines(session.feed(&probe.take(), probe.names()));
    drop(probe);
    print!("\n{}", session.summary(sent));
    if let Some(path) = &opts.json {
        session.document().write(path).map_err(|e| anyhow!(e))?;
        println!("samples: {}", path.display());
    }
    if let Some(path) = &opts.plot {
        plot::cdf(&session.panels(), path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        println!("plot: {}", path.display());
    }
    Ok(())
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}
