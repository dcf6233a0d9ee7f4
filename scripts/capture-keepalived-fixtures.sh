#!/usr/bin/env bash
# Capture real VRRP adverts sent by the installed keepalived and store them as
# test fixtures for vipd's wire codec (agent/tests/fixtures/keepalived/).
#
# Why: vipd must interoperate on the wire with keepalived, so its decoder is
# tested against bytes keepalived really sends, not against our reading of the
# RFCs. See agent/tests/fixtures/keepalived/README.md for the fixture format.
#
# What it does, per fixture: two fresh network namespaces joined by a veth pair
# (192.0.2.0/24 and 2001:db8::/64, documentation ranges, nothing on the host),
# keepalived runs in namespace A with a generated config (no scripts, no
# notify, strict mode off, its own pid files), tcpdump listens in namespace B,
# and the first matching advert is written as lowercase hex with a comment
# header. Every fixture's checksum is recomputed independently before it is
# written; the script fails if any does not verify.
#
# Run as root: scripts/capture-keepalived-fixtures.sh [OUTPUT_DIR]
# Needs: keepalived, tcpdump, iproute2, python3. Safe to re-run: it overwrites
# the fixtures and removes its namespaces, processes and temp files on exit,
# also on failure or Ctrl-C. Output is normally byte-identical between runs
# (fixed MACs and addresses; keepalived numbers IPv4 ids from 1 per process);
# only the priority-0 fixture's IPv4 id depends on how many adverts went out
# before the stop, and the "captured from" line names the running kernel.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=${1:-$REPO_ROOT/agent/tests/fixtures/keepalived}

NS_A=vipd-cap-$$-a
NS_B=vipd-cap-$$-b
IF_A=vcap-a
IF_B=vcap-b
# Fixed MACs so the IPv6 link-local source (fe80::ff:fe00:a) is the same on every run.
MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
ADDR4_A=192.0.2.1
ADDR4_B=192.0.2.2
ADDR6_A=2001:db8::1
ADDR6_B=2001:db8::2
TMP=""
KA_PID=""
TD_PID=""

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL if it lingers
    local pid=$1 _
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$KA_PID"
    stop_pid "$TD_PID"
    local ns pid
    for ns in "$NS_A" "$NS_B"; do
        # Anything still running in our own namespaces was started by this
        # script (e.g. keepalived's VRRP child if its parent had to be killed).
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    [[ -n $TMP ]] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || die "run as root (network namespaces, keepalived and tcpdump need it)"
for tool in keepalived tcpdump ip python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool not found; install it (Debian: apt-get install keepalived tcpdump iproute2 python3)"
done

TMP=$(mktemp -d /tmp/vipd-cap.XXXXXX)
mkdir -p "$OUT_DIR"
KA_VERSION=$(keepalived --version 2>&1 | sed -n 1p)
KA_PACKAGE=$(dpkg-query -W -f='${Package} ${Version}' keepalived 2>/dev/null || echo "unknown")

# --- the fixture writer and independent checksum verifier -----------------
cat >"$TMP/fixture.py" <<'PY'
"""Read a tcpdump pcap, pick one VRRP advert, verify it, write NAME.hex."""
import ipaddress
import struct
import sys

VRRP_PROTO = 112
VRRP_MCAST4 = bytes([224, 0, 0, 18])


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, expected Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) == incl:
            yield frame


def ip_packet(frame):
    """The IP packet inside an Ethernet frame, without the frame's padding."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        return ip[:struct.unpack("!H", ip[2:4])[0]]
    if ethertype == 0x86DD and len(ip) >= 40:
        return ip[:40 + struct.unpack("!H", ip[4:6])[0]]
    return None


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ok(data):
    return csum(data) == 0xFFFF


def dissect(pkt):
    """Split an IP packet into header facts and the VRRP message."""
    if pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 0xF) * 4
        if pkt[9] != VRRP_PROTO:
            return None
        return {
            "family": 4, "hdr": pkt[:ihl], "msg": pkt[ihl:], "src": pkt[12:16],
            "dst": pkt[16:20], "ttl": pkt[8], "ihl": ihl,
        }
    if pkt[0] >> 4 == 6 and pkt[6] == VRRP_PROTO:
        return {
            "family": 6, "hdr": pkt[:40], "msg": pkt[40:], "src": pkt[8:24],
            "dst": pkt[24:40], "ttl": pkt[7], "ihl": 40,
        }
    return None


def addr(b):
    return str(ipaddress.ip_address(bytes(b)))


def checksum_variants(d):
    """Every checksum rule the message could follow, and whether it holds."""
    msg, src, dst = d["msg"], d["src"], d["dst"]
    n = len(msg)
    if d["family"] == 6:
        pseudo = src + dst + struct.pack("!I3xB", n, VRRP_PROTO)
        return [("IPv6 pseudo-header + message (RFC 5798/9568)", ok(pseudo + msg)),
                ("message only", ok(msg))]
    ph = lambda d_: src + d_ + struct.pack("!xBH", VRRP_PROTO, n)  # noqa: E731
    variants = [("message only (RFC 3768 v2, RFC 9568 v3 over IPv4)", ok(msg)),
                ("IPv4 pseudo-header (src, dst, 0, 112, len) + message", ok(ph(dst) + msg))]
    if dst != VRRP_MCAST4:
        variants.append(("IPv4 pseudo-header with dst 224.0.0.18 instead of the unicast dst "
                         "(keepalived old_unicast_checksum)", ok(ph(VRRP_MCAST4) + msg)))
    return variants


def describe(pkt):
    d = dissect(pkt)
    msg = d["msg"]
    ver, typ = msg[0] >> 4, msg[0] & 0xF
    vrid, prio, count = msg[1], msg[2], msg[3]
    alen = 4 if d["family"] == 4 else 16
    addrs = [addr(msg[8 + i * alen:8 + (i + 1) * alen]) for i in range(count)]
    facts = [f"ip src: {addr(d['src'])}",
             f"ip dst: {addr(d['dst'])}"]
    if d["family"] == 4:
        h = d["hdr"]
        flags = struct.unpack("!H", h[6:8])[0]
        facts.append(f"ttl: {d['ttl']}")
        facts.append(f"ipv4 header: ihl {d['ihl']} bytes, tos 0x{h[1]:02x}, id 0x{h[4]:02x}{h[5]:02x}, "
                     f"flags/frag 0x{flags:04x}{' (DF)' if flags & 0x4000 else ''}, "
                     f"header checksum {'valid' if ok(h) else 'INVALID'}")
    else:
        tc = ((pkt[0] & 0xF) << 4) | (pkt[1] >> 4)
        facts.append(f"hop limit: {d['ttl']}")
        facts.append(f"ipv6 header: traffic class 0x{tc:02x}, flow label 0x{struct.unpack('!I', pkt[0:4])[0] & 0xFFFFF:05x}")
    facts.append(f"vrrp version: {ver}, type: {typ} (1 = advertisement)")
    facts.append(f"vrid: {vrid}")
    facts.append(f"priority: {prio}")
    facts.append(f"address count: {count}: {', '.join(addrs)}")
    if ver == 2:
        auth_type, adv = msg[4], msg[5]
        facts.append(f"advert interval: {adv} s (v2 8-bit seconds field)")
        auth = msg[8 + count * 4:]
        facts.append(f"auth type: {auth_type}, auth data: {auth.hex()} {bytes(auth)!r}")
    else:
        word = struct.unpack("!H", msg[4:6])[0]
        rsvd, maxadv = word >> 12, word & 0xFFF
        facts.append(f"max advert interval: {maxadv} centiseconds ({maxadv * 10} ms), reserved bits: {rsvd:#x}")
        extra = msg[8 + count * alen:]
        if extra:
            facts.append(f"trailing bytes after addresses: {extra.hex()}")
    facts.append(f"vrrp message length: {len(msg)} bytes, checksum field: 0x{msg[6]:02x}{msg[7]:02x}")
    variants = checksum_variants(d)
    matched = [name for name, good in variants if good]
    tried = "; ".join(f"{name}: {'match' if good else 'no'}" for name, good in variants)
    return facts, matched, tried, prio


def candidates(path):
    for frame in pcap_frames(path):
        pkt = ip_packet(frame)
        if pkt is not None and dissect(pkt) is not None:
            yield pkt


def cmd_count(path):
    print(sum(1 for _ in candidates(path)))


def cmd_extract(path, out, want, title, conf, source):
    """want: 'advert' (first advert with priority > 0) or 'prio0'."""
    for pkt in candidates(path):
        facts, matched, tried, prio = describe(pkt)
        if (want == "prio0") != (prio == 0):
            continue
        if len(matched) != 1:
            sys.exit(f"{out}: checksum verification failed ({tried})")
        lines = [f"# {title}",
                 f"# captured from: {source}",
                 "# keepalived config (vrrp_instance; full config in the .conf file next to this):"]
        lines += [f"#   {line.rstrip()}" for line in conf.splitlines() if line.strip()]
        lines += [f"# {f}" for f in facts]
        lines.append(f"# checksum verified: {matched[0]}")
        lines.append(f"# checksum rules tried: {tried}")
        lines.append("# bytes: the IP packet (IP header + VRRP message, no Ethernet header), 32 per line")
        hx = pkt.hex()
        lines += [hx[i:i + 64] for i in range(0, len(hx), 64)]
        with open(out, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{out}: {matched[0]}")
        return
    sys.exit(f"{out}: no {'priority-0 advert' if want == 'prio0' else 'advert'} in {path}")


if __name__ == "__main__":
    if sys.argv[1] == "count":
        cmd_count(sys.argv[2])
    else:
        _, path, out, want, title, conf_path, source = sys.argv[1:8]
        with open(conf_path) as f:
            cmd_extract(path, out, want, title, f.read(), source)
PY

# --- namespaces -----------------------------------------------------------
setup_namespaces() {
    local ns
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    for ns in "$NS_A" "$NS_B"; do
        # No DAD: the link-local address keepalived sends IPv6 adverts from is
        # usable at once instead of after about a second.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
        ip -n "$ns" link set lo up
    done
    ip link add "$IF_A" netns "$NS_A" address "$MAC_A" type veth \
        peer name "$IF_B" netns "$NS_B" address "$MAC_B"
    ip -n "$NS_A" addr add "$ADDR4_A/24" dev "$IF_A"
    ip -n "$NS_B" addr add "$ADDR4_B/24" dev "$IF_B"
    ip -n "$NS_A" addr add "$ADDR6_A/64" dev "$IF_A" nodad
    ip -n "$NS_B" addr add "$ADDR6_B/64" dev "$IF_B" nodad
    ip -n "$NS_A" link set "$IF_A" up
    ip -n "$NS_B" link set "$IF_B" up
}

# --- one capture ----------------------------------------------------------
wait_for() { # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

pcap_has() { # pcap_has N FILE: FILE holds at least N VRRP packets
    local n
    [[ -s $2 ]] || return 1
    n=$(python3 "$TMP/fixture.py" count "$2") || return 1
    ((n >= $1))
}

# capture NAME WANT TITLE: the vrrp_instance body comes on stdin.
# WANT is "advert" (an ordinary advert) or "prio0" (the priority-0 advert
# keepalived sends when it stops as master).
capture() {
    local name=$1 want=$2 title=$3
    local conf=$TMP/$name.conf pcap=$TMP/$name.pcap ka_log=$TMP/$name.keepalived.log
    local body
    body=$(cat)
    {
        echo "# Generated by scripts/capture-keepalived-fixtures.sh for fixture $name."
        echo "global_defs {"
        echo "    router_id vipd-cap-$name"
        echo "}"
        echo "vrrp_instance $name {"
        printf '%s\n' "$body" | sed 's/^/    /'
        echo "}"
    } >"$conf"
    printf '%s\n' "$body" >"$TMP/$name.body"

    log "== $name: $title"
    rm -f "$pcap"
    timeout 60 ip netns exec "$NS_B" tcpdump -i "$IF_B" -nn -U -w "$pcap" \
        '(ip proto 112) or (ip6 proto 112)' 2>"$TMP/$name.tcpdump.log" &
    TD_PID=$!
    wait_for 10 grep -qs 'listening on' "$TMP/$name.tcpdump.log" || die "tcpdump did not start: $(cat "$TMP/$name.tcpdump.log")"

    # -n foreground, -l -D log detail to the console (into $ka_log), -G no
    # syslog, -P VRRP only; every pid file in our temp dir so the host's
    # /run/keepalived*.pid are never read or written.
    ip netns exec "$NS_A" keepalived -n -l -D -G -P -f "$conf" \
        -p "$TMP/$name.pid" -r "$TMP/$name.vrrp.pid" -c "$TMP/$name.checkers.pid" \
        -b "$TMP/$name.bfd.pid" >"$ka_log" 2>&1 &
    KA_PID=$!

    if ! wait_for 20 pcap_has 1 "$pcap"; then
        log "keepalived log:"; cat "$ka_log" >&2
        die "$name: keepalived sent no adverts within 20 s"
    fi
    stop_pid "$KA_PID"   # as master, keepalived now sends its priority-0 advert
    KA_PID=""
    sleep 0.5
    stop_pid "$TD_PID"
    TD_PID=""

    python3 "$TMP/fixture.py" extract "$pcap" "$OUT_DIR/$name.hex" "$want" "$title" \
        "$TMP/$name.body" "$KA_VERSION (Debian package $KA_PACKAGE), Linux $(uname -r)"
    cp "$conf" "$OUT_DIR/$name.conf"
}

START=$SECONDS
setup_namespaces

capture v2-ipv4-noauth advert "VRRPv2 advert, IPv4 multicast, no authentication" <<EOF
state MASTER
interface $IF_A
virtual_router_id 51
priority 150
advert_int 1
strict_mode off
virtual_ipaddress {
    192.0.2.100/24
}
EOF

capture v2-ipv4-auth-pass advert "VRRPv2 advert, IPv4 multicast, simple password authentication (type 1)" <<EOF
state MASTER
interface $IF_A
virtual_router_id 52
priority 150
advert_int 1
strict_mode off
authentication {
    auth_type PASS
    auth_pass secret12
}
virtual_ipaddress {
    192.0.2.100/24
}
EOF

capture v3-ipv4-mcast-2vips advert "VRRPv3 advert, IPv4 multicast, two virtual addresses" <<EOF
state MASTER
interface $IF_A
virtual_router_id 53
version 3
priority 150
advert_int 1
strict_mode off
virtual_ipaddress {
    192.0.2.100/24
    192.0.2.101/24
}
EOF

capture v3-ipv4-unicast advert "VRRPv3 advert, IPv4 unicast" <<EOF
state MASTER
interface $IF_A
virtual_router_id 54
version 3
priority 150
advert_int 1
strict_mode off
unicast_src_ip $ADDR4_A
unicast_peer {
    $ADDR4_B
}
virtual_ipaddress {
    192.0.2.100/24
}
EOF

capture v3-ipv4-unicast-old-checksum advert "VRRPv3 advert, IPv4 unicast, old_unicast_checksum (pre-1.3.6 checksum)" <<EOF
state MASTER
interface $IF_A
virtual_router_id 55
version 3
priority 150
advert_int 1
strict_mode off
old_unicast_checksum
unicast_src_ip $ADDR4_A
unicast_peer {
    $ADDR4_B
}
virtual_ipaddress {
    192.0.2.100/24
}
EOF

capture v3-ipv6-mcast advert "VRRPv3 advert, IPv6 multicast (ff02::12) from the link-local address" <<EOF
state MASTER
interface $IF_A
virtual_router_id 56
version 3
priority 150
advert_int 1
strict_mode off
virtual_ipaddress {
    2001:db8::100/64
}
EOF

capture v3-ipv4-advert-10ms advert "VRRPv3 advert, IPv4 multicast, advert_int 0.01 (10 ms)" <<EOF
state MASTER
interface $IF_A
virtual_router_id 57
version 3
priority 150
advert_int 0.01
strict_mode off
virtual_ipaddress {
    192.0.2.100/24
}
EOF

capture v3-ipv4-priority0 prio0 "VRRPv3 advert, IPv4 multicast, priority 0 sent by a master on SIGTERM" <<EOF
state MASTER
interface $IF_A
virtual_router_id 58
version 3
priority 150
advert_int 1
strict_mode off
virtual_ipaddress {
    192.0.2.100/24
}
EOF

log "all fixtures written to $OUT_DIR in $((SECONDS - START)) s"
