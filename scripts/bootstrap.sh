#!/usr/bin/env bash
# Installs what vipd's build, lab and tests need on a fresh Debian 12 machine, as root.
#
# Idempotent and non-interactive: every step checks first and skips what is already there, so
# the xtask commands run it on every invocation at almost no cost. Anything that cannot be had
# fails with one line naming it.
set -euo pipefail

BPF_LINKER_VERSION=0.13.0
CARGO_FUZZ_VERSION=0.13.2
LLVM_MAJOR=22
# Debian packages the build and the tests use, as "command-or-file:package".
APT_NEEDS=(
  "/usr/lib/llvm-${LLVM_MAJOR}/bin/llvm-config:llvm-${LLVM_MAJOR}-dev"
  "ip:iproute2"
  "keepalived:keepalived"
  # FRR's vrrpd (with zebra and vtysh), the other VRRP peer of the interop tests.
  "/usr/lib/frr/vrrpd:frr"
  "tcpdump:tcpdump"
  "arping:arping"
  "stress-ng:stress-ng"
  # The lab's full-screen test runs it in a detached tmux session.
  "tmux:tmux"
  "nft:nftables"
  "bridge:iproute2"
  "ping:iputils-ping"
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"
  # The deploy tests: an OCI image built and run without a registry or daemon, the systemd
  # unit verified, the Kubernetes manifests validated in a Python venv, a static vipd.
  "buildah:buildah"
  "skopeo:skopeo"
  "runc:runc"
  "systemd-analyze:systemd"
  "/usr/lib/python3.11/ensurepip/__init__.py:python3-venv"
  "/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev"
  "setpriv:util-linux"
  "strip:binutils"
  "unshare:util-linux"
  # The Debian package test: built with dpkg-deb, its man pages rendered with groff.
  "dpkg-deb:dpkg"
  "groff:groff-base"
  "gzip:gzip"
)

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: cannot install %s\n' "$*" >&2; exit 1; }

quiet=${BOOTSTRAP_QUIET:-0}
note() { [[ $quiet == 1 ]] || say "$@"; }

have() {
  local what=$1
  if [[ $what == /* ]]; then [[ -e $what ]]; else command -v "$what" >/dev/null 2>&1; fi
}

missing_pkgs=()
for need in "${APT_NEEDS[@]}"; do
  what=${need%%:*}
  pkg=${need#*:}
  have "$what" || missing_pkgs+=("$pkg")
done

if ((${#missing_pkgs[@]})); then
  [[ $(id -u) == 0 ]] || die "${missing_pkgs[*]} (needs root for apt-get)"
  say "installing Debian packages: ${missing_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting services (keepalived) on this machine.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
  apt-get update -qq >/dev/null || die "the Debian package lists (apt-get update failed)"
  for pkg in $(printf '%s\n' "${missing_pkgs[@]}" | sort -u); do
    apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null || die "$pkg (apt-get install failed)"
  done
else
  note "Debian packages present"
fi

# The frr package enables its service; the tests start their own zebra and vrrpd in their
# namespaces and none may run on the host. Checked after every install of frr, since
# policy-rc.d only stops the package scripts from starting it, not from enabling it at boot.
if printf '%s\n' "${missing_pkgs[@]}" | grep -qx frr; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now frr.service >/dev/null 2>&1 || true
  fi
  # Without systemd (a container) the init script stops what the package may have started.
  if [[ -x /usr/lib/frr/frrinit.sh ]] && pgrep -x watchfrr >/dev/null 2>&1; then
    /usr/lib/frr/frrinit.sh stop >/dev/null 2>&1 || true
  fi
  if pgrep -x watchfrr >/dev/null 2>&1; then
    die "frr without its service running (watchfrr still runs after the install)"
  fi
fi

command -v rustup >/dev/null 2>&1 || die "rustup (the machine's Rust toolchain manager)"

if ! rustup toolchain list | grep -q '^nightly'; then
  say "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || die "the nightly Rust toolchain"
fi
# rust-src for -Z build-std=core; clippy and rustfmt to lint the eBPF crate.
for component in rust-src clippy rustfmt; do
  if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q "^$component"; then
    say "adding $component to nightly"
    rustup component add "$component" --toolchain nightly >/dev/null 2>&1 \
      || die "$component for the nightly toolchain"
  fi
done

cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
if ! "$cargo_bin/bpf-linker" --version 2>/dev/null | grep -q "$BPF_LINKER_VERSION"; then
  say "building bpf-linker $BPF_LINKER_VERSION against LLVM $LLVM_MAJOR (1-3 minutes)"
  LLVM_PREFIX=/usr/lib/llvm-${LLVM_MAJOR} cargo +stable install bpf-linker \
    --version "$BPF_LINKER_VERSION" --no-default-features --features "llvm-${LLVM_MAJOR}" --locked \
    >/tmp/vipd-bpf-linker-install.log 2>&1 \
    || die "bpf-linker $BPF_LINKER_VERSION (log: /tmp/vipd-bpf-linker-install.log)"
else
  note "bpf-linker $BPF_LINKER_VERSION present"
fi

# cargo-fuzz builds the fuzz targets that `cargo xtask test` replays (agent/fuzz).
if ! "$cargo_bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about a minute)"
  cargo +stable install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked \
    >/tmp/vipd-cargo-fuzz-install.log 2>&1 \
    || die "cargo-fuzz $CARGO_FUZZ_VERSION (log: /tmp/vipd-cargo-fuzz-install.log)"
else
  note "cargo-fuzz $CARGO_FUZZ_VERSION present"
fi

note "ready"
