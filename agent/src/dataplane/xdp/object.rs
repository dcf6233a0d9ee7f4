//! The XDP object built by `cargo xtask build-ebpf`, embedded so `vipd` is a single file.

#[cfg(vipd_ebpf_missing)]
compile_error!("vipd's XDP object is missing: run `cargo xtask build-ebpf` first");

/// The ELF object holding the XDP program and its maps, aligned for aya's ELF parser.
#[cfg(not(vipd_ebpf_missing))]
pub static XDP_OBJECT: &[u8] = aya::include_bytes_aligned!(env!("VIPD_EBPF_OBJECT"));

/// Keeps the build going so the one `compile_error!` above is the only message.
#[cfg(vipd_ebpf_missing)]
pub static XDP_OBJECT: &[u8] = &[];
