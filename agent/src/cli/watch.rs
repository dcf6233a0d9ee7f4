//! `vipd watch`: attach the XDP program to an interface and print every advert it records, with
//! its driver timestamp and the gap since the previous advert from the same router. A window
//! onto the data vipd's master-loss detection works from.
use crate::family::IpFamily;
use anyhow::{Context, Result};
use std::time::Duration;

use crate::dataplane::xdp::{Advert, AttachMode, VridPolicy, XdpProgram};

#[derive(clap::Args)]
pub struct Options {
    /// Interface to watch.
    #[arg(long, short)]
    interface: String,
    /// XDP attach mode.
    #[arg(long, value_enum, default_value_t = AttachMode::Auto)]
    xdp_mode: AttachMode,
    /// Stop after this many adverts (default: run until interrupted).
    #[arg(long)]
    count: Option<u64>,
}

pub fn run(opts: Options) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the event loop")?;
    runtime.block_on(watch(opts))
}

async fn watch(opts: Options) -> Result<()> {
    let mut program = XdpProgram::load()?;
    let mut adverts = program.take_adverts()?.into_async()?;
    let mut maps = program.take_maps()?;
    let attachment = program.attach(&opts.interface, opts.xdp_mode)?;
    // Watching is for seeing everything: every VRID of both families, unicast at any TTL,
    // with no allowance.
    let watch_policy = VridPolicy {
        allow_any_ttl: true,
        ..VridPolicy::default()
    };
    for vrid in 1..=u8::MAX {
        for family in [IpFamily::V4, IpFamily::V6] {
            maps.set_vrid(attachment.ifindex, vrid, family, watch_policy)?;
        }
    }
    println!(
        "watching VRRP adverts on {} (XDP {:?} mode); times are CLOCK_MONOTONIC at the driver",
        attachment.interface, attachment.mode
    );
    let mut last_seen = std::collections::HashMap::new();
    let mut seen = 0u64;
    loop {
        let advert = tokio::select! {
            advert = adverts.next() => advert.context("reading the advert ring buffer")?,
            _ = tokio::signal::ctrl_c() => break,
        };
        if advert.is_echo {
            // This node's own liveness probes coming back: not an advert.
            continue;
        }
        let gap = last_seen
            .insert((advert.source, advert.vrid), advert.ktime_ns)
            .map(|prev| Duration::from_nanos(advert.ktime_ns.saturating_sub(prev)));
        println!("{}", describe(&advert, gap));
        seen += 1;
        if opts.count.is_some_and(|count| seen >= count) {
            break;
        }
    }
    Ok(())
}

fn describe(advert: &Advert, gap: Option<Duration>) -> String {
    let ktime = Duration::from_nanos(advert.ktime_ns);
    let interval = match advert.version {
        3 => format!("max_adver_int={}cs", advert.adver_int & 0x0fff),
        _ => format!("adver_int={}s", advert.adver_int),
    };
    let gap = gap.map_or_else(|| "first".to_string(), |gap| format!("+{gap:.6?}"));
    let vlan = advert
        .vlan_id
        .map_or_else(String::new, |id| format!(" vlan={id}"));
    format!(
        "{:>10}.{:09}  if={}{} VRRPv{} vrid={} prio={} {} ttl={} addrs={} src={}  gap {}",
        ktime.as_secs(),
        ktime.subsec_nanos(),
        advert.ifindex,
        vlan,
        advert.version,
        advert.vrid,
        advert.priority,
        interval,
        advert.ttl,
        advert.addr_count,
        advert.source,
        gap
    )
}
