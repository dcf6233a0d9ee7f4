//! Finds the XDP object that `cargo xtask build-ebpf` produced, for `include_bytes_aligned!`.
//!
//! When it is missing, the crate is compiled with `vipd_ebpf_missing`, which turns into a single
//! `compile_error!` telling the user what to run, instead of a wall of errors.
use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vipd_ebpf_missing)");
    println!("cargo::rerun-if-env-changed=VIPD_EBPF_OBJECT");
    let object = std::env::var("VIPD_EBPF_OBJECT").unwrap_or_else(|_| {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        format!("{manifest}/../target/ebpf/vipd-xdp.o")
    });
    println!("cargo::rerun-if-changed={object}");
    if Path::new(&object).is_file() {
        println!("cargo::rustc-env=VIPD_EBPF_OBJECT={object}");
    } else {
        println!("cargo::rustc-cfg=vipd_ebpf_missing");
    }
}
