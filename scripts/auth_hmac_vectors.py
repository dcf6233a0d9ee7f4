#!/usr/bin/env python3
"""Test vectors for vipd's auth_hmac codec (agent/src/vrrp/auth_hmac/tests.rs), computed
independently of the Rust code with Python's hmac module from the layout of
draft-cassen-vrrp-auth-hmac as keepalived 2.4.3 implements it:

  trailer (28 bytes, after the VRRP message):
    ext_type u8 (1) | key_id u8 | reserved u16 (0) | sec u32 | subsec u16 | ctr u16 | mac[16]
  mac = HMAC-SHA256(key, pseudo || message with checksum read as 0 || trailer[0..12] || 16 zero
        bytes)[0..16]
  pseudo (20 bytes) = family (4 or 6) | VRRP version | VRID | 0 | source address, zero padded

Checksums: VRRPv2 over the message only; VRRPv3/IPv4 with the IPv4 pseudo-header over the
message only (the trailer is outside it); VRRPv3/IPv6 with the IPv6 pseudo-header over the
whole payload, trailer included (what the kernel's IPV6_CHECKSUM does for keepalived).

Run: python3 scripts/auth_hmac_vectors.py
The first two cases reproduce the draft appendix images in keepalived's test/auth_hmac_test.c.
"""
import hashlib
import hmac
import ipaddress
import struct

KEY = bytes(range(32))


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src: str, version: int, vrid: int) -> bytes:
    a = ipaddress.ip_address(src)
    fam = 4 if a.version == 4 else 6
    return bytes([fam, version, vrid, 0]) + a.packed.ljust(16, b"\0")


def sign(key, src, version, vrid, msg, key_id, seq):
    prefix = struct.pack("!BBHIHH", 1, key_id, 0, seq >> 32, (seq >> 16) & 0xFFFF, seq & 0xFFFF)
    zeroed = msg[:6] + b"\0\0" + msg[8:]
    mac = hmac.new(key, pseudo(src, version, vrid) + zeroed + prefix + bytes(16), hashlib.sha256)
    return prefix + mac.digest()[:16]


def v3_header(vrid, prio, naddr, centis):
    return bytes([0x31, vrid, prio, naddr]) + struct.pack("!H", centis) + b"\0\0"


def with_csum(msg, value):
    return msg[:6] + struct.pack("!H", value) + msg[8:]


def case(name, msg, trailer):
    print(f"{name}:\n  message {msg.hex()}\n  trailer {trailer.hex()}")


# VRRPv3 over IPv4, the draft appendix: src 198.51.100.10, VIP 192.0.2.100, message-only checksum.
SEQ = 0x6800000080000000
m = v3_header(51, 200, 1, 100) + ipaddress.ip_address("192.0.2.100").packed
m = with_csum(m, csum(m))
case("ipv4 v3 appendix (message-only checksum)", m, sign(KEY, "198.51.100.10", 3, 51, m, 1, SEQ))

# VRRPv3 over IPv6, the draft appendix: src fe80::10, VIP fe80::100, dst fe80::20.
src6, dst6 = ipaddress.ip_address("fe80::10"), ipaddress.ip_address("fe80::20")
m = v3_header(51, 200, 1, 100) + ipaddress.ip_address("fe80::100").packed
t = sign(KEY, "fe80::10", 3, 51, m, 1, SEQ)
payload = m + t
ph = src6.packed + dst6.packed + struct.pack("!I", len(payload)) + b"\0\0\0\x70"
m = with_csum(m, csum(ph + payload))
case("ipv6 v3 appendix (checksum over the trailer)", m, t)

# vipd's own vectors. VRRPv3 over IPv4 to 224.0.0.18 with the IPv4 pseudo-header (keepalived's
# and vipd's default), two VIPs, key id 7, a 64-byte ASCII key.
KEY64 = b"vipd-auth-hmac-test-key-0123456789abcdefghijklmnopqrstuvwxyz!!!!"
assert len(KEY64) == 64
SEQ2 = (1_800_000_000 << 32) | (0x1234 << 16) | 5
m = v3_header(7, 100, 2, 100) + ipaddress.ip_address("192.0.2.100").packed + ipaddress.ip_address("192.0.2.101").packed
ph = ipaddress.ip_address("192.0.2.1").packed + ipaddress.ip_address("224.0.0.18").packed + struct.pack("!BBH", 0, 112, len(m))
m = with_csum(m, csum(ph + m))
case("ipv4 v3 pseudo-header checksum, key 7 (64 bytes)", m, sign(KEY64, "192.0.2.1", 3, 7, m, 7, SEQ2))

# VRRPv2 over IPv4: auth type 0, adver int 1 s, one VIP, 8 zero auth bytes, key 1 = 00..1f.
m = bytes([0x21, 9, 150, 1, 0, 1, 0, 0]) + ipaddress.ip_address("10.0.0.100").packed + bytes(8)
m = with_csum(m, csum(m))
case("ipv4 v2, key 1", m, sign(KEY, "10.0.0.2", 2, 9, m, 1, SEQ2))

# VRRPv3 over IPv6, global addresses, to ff02::12, key 2 = 48 bytes 0xa5.
KEY48 = bytes([0xA5]) * 48
src6, dst6 = ipaddress.ip_address("2001:db8::1"), ipaddress.ip_address("ff02::12")
m = v3_header(42, 254, 1, 5) + ipaddress.ip_address("2001:db8::100").packed
t = sign(KEY48, "2001:db8::1", 3, 42, m, 2, SEQ2)
payload = m + t
ph = src6.packed + dst6.packed + struct.pack("!I", len(payload)) + b"\0\0\0\x70"
m = with_csum(m, csum(ph + payload))
case("ipv6 v3 to ff02::12, key 2 (48 bytes 0xa5)", m, t)
