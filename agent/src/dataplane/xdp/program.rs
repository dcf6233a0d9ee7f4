//! Loading the XDP object and attaching its program to interfaces.
use agent_common::names;
use aya::{
    programs::{ProgramError, RawTracePoint, TestRun, TestRunOptions, Xdp, XdpMode},
    Ebpf, EbpfError,
};
use std::io;
use tracing::{info, warn};

use super::{
    adverts::AdvertRing,
    driver,
    maps::{XdpMapError, XdpMaps},
    object::XDP_OBJECT,
};

/// How to attach: `Auto` picks generic (skb) mode on drivers where a native XDP_TX answer may
/// not reach the wire (veth), tries driver (native) mode elsewhere and
/// falls back to generic mode, saying in the log which it chose and why; the others force one
/// mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachMode {
    #[default]
    Auto,
    Driver,
    Generic,
}

/// Where and how the program ended up attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub interface: String,
    /// The interface's index, as the program sees it in `ingress_ifindex` (the key of the VRID
    /// and owned-VIP maps).
    pub ifindex: u32,
    /// `Driver` or `Generic`, never `Auto`.
    pub mode: AttachMode,
}

#[derive(Debug, thiserror::Error)]
pub enum XdpError {
    #[error("loading vipd's XDP object: {0} (vipd needs root or CAP_BPF and CAP_NET_ADMIN)")]
    Load(#[source] EbpfError),
    #[error("vipd's XDP object has no program `{0}`: rebuild with `cargo xtask build-ebpf`")]
    ProgramMissing(&'static str),
    #[error("vipd's XDP object has no map `{0}`: rebuild with `cargo xtask build-ebpf`")]
    MapMissing(&'static str),
    #[error("the XDP program was rejected by the kernel: {0}")]
    Verify(#[source] ProgramError),
    #[error("interface {0} does not exist")]
    UnknownInterface(String),
    #[error(
        "interface {interface} already has an XDP program that vipd did not attach; detach it \
         (`ip link set dev {interface} xdp off`) or run vipd without XDP (`dataplane = \"socket\"` \
         in the [global] section of vipd.toml)"
    )]
    InterfaceBusy { interface: String },
    #[error("attaching XDP to {interface} in {mode:?} mode: {source}")]
    Attach {
        interface: String,
        mode: AttachMode,
        #[source]
        source: ProgramError,
    },
    #[error(
        "watching vipd's own exit and SIGSTOP with a raw tracepoint on {tracepoint}: {source} \
         (this needs CAP_BPF and CAP_PERFMON)"
    )]
    WatchAgent {
        tracepoint: &'static str,
        #[source]
        source: ProgramError,
    },
    #[error("opening the advert ring buffer: {0}")]
    Map(#[source] aya::maps::MapError),
    #[error("BPF_PROG_TEST_RUN: {0}")]
    TestRun(#[source] ProgramError),
    #[error("reading the loaded XDP program's info: {0}")]
    Info(#[source] ProgramError),
}

/// What the verifier and the JIT made of the loaded program: its size is part of its cost.
/// `None` where the kernel does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramSize {
    /// Instructions the verifier processed.
    pub verified_instructions: Option<u32>,
    /// Bytes of BPF instructions after the kernel's translation (8 bytes an instruction).
    pub translated_bytes: Option<u32>,
    /// Bytes of JIT-compiled machine code.
    pub jitted_bytes: u32,
}

/// The verdicts (the kernel's `enum xdp_action`) the program returns, as
/// [`XdpProgram::test_run`] reports them: vipd's program only ever passes, drops or sends back.
pub mod xdp_action {
    pub const XDP_DROP: u32 = 1;
    pub const XDP_PASS: u32 = 2;
    pub const XDP_TX: u32 = 3;
}

/// The ingress interface the program sees under [`XdpProgram::test_run`]: the loopback of the
/// calling thread's network namespace, the index to key VRID and owned-VIP entries with.
pub const TEST_RUN_IFINDEX: u32 = 1;

/// The loaded XDP object: the program (verified and loaded into the kernel once, attachable to
/// any number of interfaces) and its maps.
pub struct XdpProgram {
    ebpf: Ebpf,
}

impl XdpProgram {
    /// Loads the embedded object and the program into the kernel (this is where the verifier
    /// runs), without attaching it anywhere.
    pub fn load() -> Result<Self, XdpError> {
        let mut ebpf = Ebpf::load(XDP_OBJECT).map_err(XdpError::Load)?;
        program_mut(&mut ebpf)?.load().map_err(XdpError::Verify)?;
        Ok(Self { ebpf })
    }

    /// Attaches to `interface` (looked up in the calling thread's network namespace).
    pub fn attach(&mut self, interface: &str, mode: AttachMode) -> Result<Attachment, XdpError> {
        let ifindex = nix::net::if_::if_nametoindex(interface)
            .map_err(|_| XdpError::UnknownInterface(interface.into()))?;
        let program = program_mut(&mut self.ebpf)?;
        let attached = |mode| Attachment {
            interface: interface.into(),
            ifindex,
            mode,
        };
        match mode {
            AttachMode::Driver | AttachMode::Generic => {
                attach_in(program, interface, mode)?;
                Ok(attached(mode))
            }
            AttachMode::Auto => {
                let driver = driver::driver_name(interface).unwrap_or_else(|_| "unknown".into());
                if let Some(why) = driver::native_tx_unreliable(&driver) {
                    attach_in(program, interface, AttachMode::Generic)?;
                    info!(
                        interface,
                        driver,
                        "XDP attached in generic (skb) mode: {why} (`--xdp-mode driver` forces \
                         native mode, for a peer that has one)"
                    );
                    return Ok(attached(AttachMode::Generic));
                }
                match attach_in(program, interface, AttachMode::Driver) {
                    Ok(()) => {
                        info!(interface, driver, "XDP attached in driver (native) mode");
                        Ok(attached(AttachMode::Driver))
                    }
                    Err(XdpError::Attach { source, .. }) => {
                        warn!(
                            interface,
                            error = %source,
                            "XDP driver mode unavailable, attaching in generic (skb) mode"
                        );
                        attach_in(program, interface, AttachMode::Generic)?;
                        Ok(attached(AttachMode::Generic))
                    }
                    Err(other) => Err(other),
                }
            }
        }
    }

    /// Attaches the agent watch: from now on the kernel silences the responders the moment the
    /// process named with [`XdpMaps::watch_agent`] exits or takes SIGSTOP. Its links belong to
    /// this process, like the XDP links.
    pub fn watch_agent(&mut self) -> Result<(), XdpError> {
        for (program, tracepoint) in [
            (names::AGENT_EXIT_PROGRAM, "sched_process_exit"),
            (names::AGENT_STOP_PROGRAM, "signal_deliver"),
        ] {
            let watch: &mut RawTracePoint = self
                .ebpf
                .program_mut(program)
                .and_then(|p| p.try_into().ok())
                .ok_or(XdpError::ProgramMissing(program))?;
            let failed = |source| XdpError::WatchAgent { tracepoint, source };
            watch.load().map_err(failed)?;
            watch.attach(tracepoint).map_err(failed)?;
        }
        Ok(())
    }

    /// Takes the advert ring buffer out of the object; there is one, so this works once.
    pub fn take_adverts(&mut self) -> Result<AdvertRing, XdpError> {
        let map = self
            .ebpf
            .take_map(names::ADVERTS_RING)
            .ok_or(XdpError::MapMissing(names::ADVERTS_RING))?;
        AdvertRing::new(map).map_err(XdpError::Map)
    }

    /// Takes the control maps (VRIDs, owned VIPs, dead-man switch, counters) out of
    /// the object; this works once.
    pub fn take_maps(&mut self) -> Result<XdpMaps, XdpMapError> {
        XdpMaps::take(&mut self.ebpf)
    }

    /// The loaded program's size, as the verifier and the JIT left it.
    pub fn size(&self) -> Result<ProgramSize, XdpError> {
        let program: &Xdp = self
            .ebpf
            .program(names::XDP_PROGRAM)
            .and_then(|p| p.try_into().ok())
            .ok_or(XdpError::ProgramMissing(names::XDP_PROGRAM))?;
        let info = program.info().map_err(XdpError::Info)?;
        Ok(ProgramSize {
            verified_instructions: info.verified_instruction_count(),
            translated_bytes: info.size_translated(),
            jitted_bytes: info.size_jitted(),
        })
    }

    /// Runs the program once on `frame` through BPF_PROG_TEST_RUN and returns its verdict
    /// (an `xdp_action`) and the frame as the program left it. The kernel refuses frames shorter
    /// than an Ethernet header with EINVAL. The program sees the loopback device of the calling
    /// thread's network namespace as the ingress interface ([`TEST_RUN_IFINDEX`]).
    pub fn test_run(&mut self, frame: &[u8]) -> Result<(u32, Vec<u8>), XdpError> {
        let program = program_mut(&mut self.ebpf)?;
        // Room for programs that grow the frame (bpf_xdp_adjust_tail), plus headroom slack.
        let mut out = vec![0u8; frame.len() + 256];
        let mut opts = TestRunOptions::new();
        opts.data_in = Some(frame);
        opts.data_out = Some(&mut out);
        let result = program.test_run(opts).map_err(XdpError::TestRun)?;
        out.truncate(result.data_size_out as usize);
        Ok((result.return_value, out))
    }
}

fn program_mut(ebpf: &mut Ebpf) -> Result<&mut Xdp, XdpError> {
    ebpf.program_mut(names::XDP_PROGRAM)
        .and_then(|p| p.try_into().ok())
        .ok_or(XdpError::ProgramMissing(names::XDP_PROGRAM))
}

fn attach_in(program: &mut Xdp, interface: &str, mode: AttachMode) -> Result<(), XdpError> {
    let xdp_mode = match mode {
        AttachMode::Driver => XdpMode::Driver,
        AttachMode::Generic => XdpMode::Skb,
        AttachMode::Auto => XdpMode::Default,
    };
    match program.attach(interface, xdp_mode) {
        Ok(_link_id) => Ok(()),
        Err(ProgramError::UnknownInterface { name }) => Err(XdpError::UnknownInterface(name)),
        Err(source) if is_busy(&source) => Err(XdpError::InterfaceBusy {
            interface: interface.into(),
        }),
        Err(source) => Err(XdpError::Attach {
            interface: interface.into(),
            mode,
            source,
        }),
    }
}

/// The kernel answers EBUSY (link API) or EEXIST (netlink) when another program is attached.
fn is_busy(error: &ProgramError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return matches!(io.raw_os_error(), Some(libc::EBUSY) | Some(libc::EEXIST));
        }
        source = e.source();
    }
    false
}
