//! `cargo xtask bench arp`: how fast vipd's XDP responder answers ARP compared with the kernel's
//! own ARP, on the same veth in the same run. A figure for the README, never asserted.
//!
//! Two namespaces on a veth pair. The node has 192.0.2.2 configured (the kernel answers for it)
//! and its XDP program owns 192.0.2.100, configured nowhere (only the program answers for it). A
//! client thread with an AF_PACKET socket measures, for each target in turn:
//! - latency: one request at a time, CLOCK_MONOTONIC around send and matching reply. On veth the
//!   answer is made within the client's `send()` (softirq on the same CPU), so this is the cost of
//!   one exchange rather than a wire's latency, the same harness for both responders;
//! - rate: requests sent back to back for a fixed time, replies counted by the client
//!   interface's receive counter.
//!
//! Both veth ends run in driver mode; the client end carries the same program with nothing owned,
//! because on veth XDP_TX only delivers when the peer has an XDP program too. The program is
//! vipd's own, embedded in it and loaded with its loader ([`XdpProgram`]).
use anyhow::{Context, Result};
use clap::Parser;
use std::{
    net::Ipv4Addr,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    time::{Duration, Instant},
};

use vipd::dataplane::xdp::{AttachMode, XdpMaps, XdpProgram};

use crate::{
    clock::monotonic_ns,
    netns::{veth, Netns},
};

const CLIENT_IF: &str = "bench-cli";
const NODE_IF: &str = "bench-node";
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x01];
const NODE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x02];
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const KERNEL_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const ETH_P_ARP: u16 = 0x0806;

#[derive(Parser)]
#[command(
    name = "cargo xtask bench arp",
    about = "ARP answers per second and reply latency: vipd's XDP responder against the kernel"
)]
pub struct Options {
    /// Time spent on each of the four measurements.
    #[arg(long, default_value = "1.5s", value_parser = humantime::parse_duration)]
    each: Duration,
}

pub fn main(opts: Options) -> Result<(), String> {
    run(&opts).map_err(|error| format!("{error:#}"))
}

fn run(opts: &Options) -> Result<()> {
    let client = Netns::new("bench-cli");
    let node = Netns::new("bench-node");
    veth(&client, CLIENT_IF, &node, NODE_IF);
    client.exec(&[
        "ip",
        "link",
        "set",
        CLIENT_IF,
        "address",
        &mac_string(CLIENT_MAC),
    ]);
    node.exec(&[
        "ip",
        "link",
        "set",
        NODE_IF,
        "address",
        &mac_string(NODE_MAC),
    ]);
    client.exec(&["ip", "addr", "add", "192.0.2.1/24", "dev", CLIENT_IF]);
    node.exec(&["ip", "addr", "add", "192.0.2.2/24", "dev", NODE_IF]);

    // Programs are dropped (links detached) before the namespaces, which are declared earlier.
    let mut node_xdp = node.run(|| attached(NODE_IF))?;
    let _client_xdp = client.run(|| attached(CLIENT_IF))?;
    let mut node_maps = node_xdp.take_maps().context("the node program's maps")?;
    own_vip(&mut node_maps, node.ifindex(NODE_IF))?;

    let client_ifindex = client.ifindex(CLIENT_IF);
    let results = client.run(|| -> Result<[Measurement; 2]> {
        let socket = ArpSocket::open(client_ifindex)?;
        Ok([
            Measurement::take(&socket, VIP, opts.each)?,
            Measurement::take(&socket, KERNEL_IP, opts.each)?,
        ])
    })?;
    let answered_by_xdp = node_maps
        .counters()?
        .get(agent_common::counter::ARP_ANSWERED);
    report(&results, answered_by_xdp);
    describe_program(&node_xdp)?;
    Ok(())
}

/// What the verifier and the JIT made of the program: its size is part of its cost.
fn describe_program(program: &XdpProgram) -> Result<()> {
    let size = program.size()?;
    let show = |n: Option<u32>| n.map_or_else(|| "unknown".to_string(), |n| n.to_string());
    println!(
        "program: {} instructions processed by the verifier, {} BPF instructions after \
         translation ({} bytes), {} bytes JIT-compiled",
        show(size.verified_instructions),
        show(size.translated_bytes.map(|bytes| bytes / 8)),
        show(size.translated_bytes),
        size.jitted_bytes,
    );
    Ok(())
}

/// Loads vipd's program and attaches it to `interface` in driver mode.
fn attached(interface: &str) -> Result<XdpProgram> {
    let mut program = XdpProgram::load()?;
    program
        .attach(interface, AttachMode::Driver)
        .with_context(|| format!("attaching XDP to {interface} in driver mode"))?;
    Ok(program)
}

/// Owns the VIP with the node's MAC and keeps the dead-man switch open for the whole run.
fn own_vip(maps: &mut XdpMaps, ifindex: u32) -> Result<()> {
    maps.own_vip(ifindex, VIP.into(), NODE_MAC, 1)?;
    maps.set_deadman_bound(Duration::MAX)?;
    maps.heartbeat(monotonic_ns())?;
    Ok(())
}

/// What one target's answers look like.
struct Measurement {
    /// Request-to-reply times of one-at-a-time requests, sorted.
    latencies: Vec<Duration>,
    lost: u64,
    /// Replies per second while requests were sent back to back.
    rate: f64,
    /// Requests per second the client managed to send meanwhile.
    sent_per_second: f64,
}

impl Measurement {
    fn take(socket: &ArpSocket, target: Ipv4Addr, each: Duration) -> Result<Self> {
        let request = arp_request(target);
        // Replies left over from the previous flood would fill the socket's queue and make the
        // first answer here look lost.
        socket.drain();
        let mut latencies = Vec::new();
        let mut lost = 0;
        let end = Instant::now() + each;
        while Instant::now() < end {
            let sent = monotonic_ns();
            socket.send(&request)?;
            if socket.wait_reply(target, Duration::from_millis(100))? {
                latencies.push(Duration::from_nanos(monotonic_ns() - sent));
            } else {
                lost += 1;
            }
        }
        latencies.sort();
        let (rate, sent_per_second) = flood(socket, &request, each)?;
        Ok(Self {
            latencies,
            lost,
            rate,
            sent_per_second,
        })
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }
}

/// Sends requests back to back for `each`, then counts what the client interface received
/// meanwhile (nothing but the replies travels on this veth). Returns replies and requests per
/// second.
fn flood(socket: &ArpSocket, request: &[u8], each: Duration) -> Result<(f64, f64)> {
    let received_before = rx_packets(CLIENT_IF)?;
    let mut sent = 0u64;
    let start = Instant::now();
    while start.elapsed() < each {
        socket.send(request)?;
        sent += 1;
    }
    // Replies still in flight.
    std::thread::sleep(Duration::from_millis(100));
    let replies = rx_packets(CLIENT_IF)? - received_before;
    let seconds = each.as_secs_f64();
    Ok((replies as f64 / seconds, sent as f64 / seconds))
}

/// Packets `interface` received, from the calling thread's namespace's `/proc/net/dev`.
fn rx_packets(interface: &str) -> Result<u64> {
    let table = std::fs::read_to_string("/proc/thread-self/net/dev")?;
    table
        .lines()
        .find_map(|line| {
            let (name, counters) = line.split_once(':')?;
            (name.trim() == interface)
                .then(|| counters.split_whitespace().nth(1)?.parse().ok())
                .flatten()
        })
        .with_context(|| format!("no receive counters for {interface}"))
}

fn report(results: &[Measurement; 2], answered_by_xdp: u64) {
    let [xdp, kernel] = results;
    println!("ARP answers over veth, driver-mode XDP on both ends, same run:");
    println!(
        "{:<28} {:>10} {:>10} {:>8} {:>14} {:>12}",
        "responder", "p50", "p99", "lost", "answers/s", "sent/s"
    );
    for (name, m) in [
        ("XDP (vipd, VIP 192.0.2.100)", xdp),
        ("kernel (192.0.2.2)", kernel),
    ] {
        println!(
            "{:<28} {:>10.1?} {:>10.1?} {:>8} {:>14.0} {:>12.0}",
            name,
            m.percentile(0.5),
            m.percentile(0.99),
            m.lost,
            m.rate,
            m.sent_per_second,
        );
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-12);
    println!(
        "kernel/XDP latency ratio: p50 {:.2}x, p99 {:.2}x; XDP/kernel answers per second: {:.2}x",
        ratio(xdp.percentile(0.5), kernel.percentile(0.5)),
        ratio(xdp.percentile(0.99), kernel.percentile(0.99)),
        xdp.rate / kernel.rate.max(1.0)
    );
    println!(
        "(the XDP program counted {answered_by_xdp} answers. On veth the answer is made inside the \
         client's send(), in softirq on the same CPU, so both figures measure the cost of one \
         exchange on one CPU rather than a wire's latency, and answers/s is bounded by sent/s)"
    );
}

/// An AF_PACKET socket bound to one interface, seeing ARP only.
struct ArpSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl ArpSocket {
    fn open(ifindex: u32) -> Result<Self> {
        let protocol = i32::from(ETH_P_ARP.to_be());
        // SAFETY: plain socket(2) call; the fd is owned right away.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, protocol) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error()).context("AF_PACKET socket");
        }
        // SAFETY: raw is a fresh fd nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let socket = Self { fd, ifindex };
        let addr = socket.address(None);
        // SAFETY: addr is a valid sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                socket.fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error()).context("binding the AF_PACKET socket");
        }
        Ok(socket)
    }

    fn address(&self, dst: Option<[u8; 6]>) -> libc::sockaddr_ll {
        // SAFETY: sockaddr_ll is plain data; all zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ARP.to_be();
        addr.sll_ifindex = self.ifindex as i32;
        if let Some(dst) = dst {
            addr.sll_halen = 6;
            addr.sll_addr[..6].copy_from_slice(&dst);
        }
        addr
    }

    fn send(&self, frame: &[u8]) -> Result<()> {
        // SAFETY: frame is a valid buffer of the length passed.
        let rc = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if rc < 0 {
            let error = std::io::Error::last_os_error();
            // A full veth queue under flood: the request is lost, as on a real wire.
            if error.raw_os_error() == Some(libc::ENOBUFS) {
                return Ok(());
            }
            return Err(error).context("sending an ARP request");
        }
        Ok(())
    }

    /// Discards whatever is queued on the socket.
    fn drain(&self) {
        let mut buf = [0u8; 128];
        // SAFETY: buf is a valid buffer of the length passed.
        while unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        } > 0
        {}
    }

    /// Waits up to `timeout` for an ARP reply from `target` to the client; `false` on timeout.
    fn wait_reply(&self, target: Ipv4Addr, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 128];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: pfd is one valid pollfd.
            let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as i32) };
            if ready <= 0 {
                continue;
            }
            // SAFETY: buf is a valid buffer of the length passed.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 42 && is_reply_from(&buf[..n as usize], target) {
                return Ok(true);
            }
        }
    }
}

fn arp_request(target: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&CLIENT_MAC);
    frame.extend_from_slice(&ETH_P_ARP.to_be_bytes());
    frame.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&CLIENT_MAC);
    frame.extend_from_slice(&CLIENT_IP.octets());
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&target.octets());
    frame
}

fn is_reply_from(frame: &[u8], target: Ipv4Addr) -> bool {
    frame[12..14] == ETH_P_ARP.to_be_bytes()
        && frame[20..22] == [0, 2]
        && frame[28..32] == target.octets()
        && frame[38..42] == CLIENT_IP.octets()
}

fn mac_string(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}
