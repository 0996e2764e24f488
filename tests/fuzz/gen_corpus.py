#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora in tests/fuzz/corpus/NAME/ for the libFuzzer targets.

Seeds come from the project's independent test material: the packet oracle
(tests/oracle/wg_oracle.py, built from the whitepaper with hashlib, python3-cryptography
and python3-nacl) for handshake, cookie and data messages; the kernel-style boundary table
of tests/unit/replay_test.c for the replay window; the golden files in tests/golden/ for the
UAPI text, the config file and wgctl's arguments. Each target's seeds are a handful of small
inputs in that target's own encoding (see the header comment of tests/fuzz/NAME.c).

Run from the repository root: /usr/bin/python3 tests/fuzz/gen_corpus.py
The output is deterministic; rerun it after changing a target's input encoding.
"""

import glob
import hashlib
import importlib.util
import os
import shutil
import struct

OUT = "tests/fuzz/corpus"

spec = importlib.util.spec_from_file_location("wg_oracle", "tests/oracle/wg_oracle.py")
oracle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(oracle)

u8 = lambda v: struct.pack("<B", v & 0xff)
u16 = lambda v: struct.pack("<H", v & 0xffff)
i16 = lambda v: struct.pack("<h", v)
u32 = lambda v: struct.pack("<I", v & 0xffffffff)
u64 = lambda v: struct.pack("<Q", v & 0xffffffffffffffff)

WINDOW = 8192 - 64
REJECT = 2 ** 64 - 1 - WINDOW - 1


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def oracle_sets(n):
    return [oracle.build(i) for i in range(n)]


# --- ingress: {u8 flags, u16 step, [source], u16 len, bytes} ------------------------------

def datagram(body, flags=0, step=0):
    return u8(flags) + u16(step) + u16(len(body)) + body


def gen_ingress(sets):
    v = sets[0]
    write("ingress", "initiation", datagram(v["initiation"]))
    write("ingress", "initiation_mac2", datagram(v["initiation_mac2"]))
    write("ingress", "response_fixed", datagram(v["response"], flags=0x0c))
    write("ingress", "cookie_reply", datagram(v["cookie_reply"], flags=0x08))
    write("ingress", "data", datagram(v["data"][0][3], flags=0x08))
    seq = b"".join(datagram(m, flags=f, step=s) for m, f, s in [
        (sets[1]["initiation"], 0x06, 0), (sets[1]["response"], 0x01, 5),
        (sets[1]["cookie_reply"], 0x0a, 1000), (sets[1]["data"][2][3], 0x0b, 0)])
    write("ingress", "sequence", seq)


# --- initiation: u8 config, then ops (0 genuine, 1 raw, 2 replay, 3 time, 4 load, 5 cookie) -

def ini_genuine(flags=0, pos=0xff, flip=0, wall_ms=20, index=1, stranger=b""):
    return u8(0) + u8(flags) + u8(pos) + u8(flip) + i16(wall_ms) + u32(index) + stranger


def gen_initiation(sets):
    write("initiation", "one", u8(0) + ini_genuine())
    write("initiation", "psk_mismatch", u8(7) + ini_genuine())
    write("initiation", "replay", u8(1) + ini_genuine() + u8(2) + u8(3) + u16(100) + u8(2))
    write("initiation", "older_timestamp",
          u8(0) + ini_genuine(wall_ms=1000) + u8(3) + u16(50) + ini_genuine(wall_ms=-2000))
    write("initiation", "flipped_index", u8(0) + ini_genuine(pos=5, flip=0x40))
    write("initiation", "flipped_static", u8(0) + ini_genuine(pos=60, flip=1))
    write("initiation", "under_load_cookie",
          u8(0) + u8(4) + ini_genuine() + u8(5) + u8(3) + u16(30) + ini_genuine())
    write("initiation", "raw_oracle", u8(0) + u8(1) + sets[2]["initiation"])
    write("initiation", "stranger",
          u8(0) + ini_genuine(flags=1, stranger=sets[3]["initiator_private"]))


# --- response: u8 config, ops (0 respond, 1 initiate, 2 raw, 3 replay, 4 time, 5 load, 6 ck) -

def rsp_respond(flags=0, pos=0xff, flip=0, index=9):
    return u8(0) + u8(flags) + u8(pos) + u8(flip) + u32(index)


def gen_response(sets):
    write("response", "one", u8(0) + rsp_respond())
    write("response", "psk", u8(3) + rsp_respond() + u8(3))
    write("response", "psk_mismatch", u8(1) + rsp_respond())
    write("response", "flipped_sender", u8(0) + rsp_respond(pos=6, flip=0x11))
    write("response", "flipped_tag", u8(0) + rsp_respond(pos=50, flip=0x80))
    write("response", "stale", u8(0) + u8(4) + u16(6000) + u8(1) + u8(1) + rsp_respond())
    write("response", "under_load",
          u8(0) + u8(5) + rsp_respond() + u8(6) + u8(4) + u16(6000) + u8(1) + u8(0) +
          rsp_respond())
    write("response", "raw_oracle", u8(0) + u8(2) + sets[4]["response"])


# --- cookie: ops (0 reply, 1 raw, 2 time x4 ms, 3 initiate) --------------------------------

def gen_cookie(sets):
    reply = lambda pos=0xff, flip=0: u8(0) + u8(pos) + u8(flip)
    later = lambda ms: u8(2) + u16(ms // 4)
    write("cookie", "reply_then_mac2", reply() + later(6000) + u8(3))
    write("cookie", "twice", reply() + reply())
    write("cookie", "flipped", reply(pos=40, flip=4) + later(6000) + u8(3))
    write("cookie", "expired", reply() + later(116000) + u8(3))
    write("cookie", "secret_rotated", later(119000) + u8(3) + reply() + later(6000) + u8(3))
    write("cookie", "raw_oracle", u8(1) + sets[5]["cookie_reply"])


# --- data_path: u8 config (bit 0: offloading TUN), ops (0: time u16 x10 ms; 1: a UDP GRO
# read of several messages; else one message) --------------------------------------------

def dp_msg(ctr_mode, ctr=b"", flip=None, body=b""):
    """One message: how (bit 0 built, bit 1 flip, bit 3 TCP), counter, pos, [flip], body."""
    return ctr_mode[0:1] + u8(ctr_mode[1]) + ctr + u16(flip[0] if flip else 0) + \
        (u8(flip[1]) if flip else b"") + body


def dp_ip(ctr_mode, ctr=b"", ver6=False, who=0, payload=b"", pad=0, skew=0, flip=None):
    how = 1 | (2 if flip is not None else 0)
    body = u8((1 if ver6 else 0) | (who << 1)) + u8(len(payload)) + u8(pad) + u8(skew) + payload
    return dp_msg(bytes([how, ctr_mode]), ctr, flip, body)


def dp_tcp(flow=0, v6=False, payload=1000, ctr_mode=0):
    body = u8(flow | (2 if v6 else 0)) + u16(payload) + bytes(range(min(payload, 32)))
    return dp_msg(bytes([9, ctr_mode]), b"", None, body)


def dp_raw(ctr_mode, body, ctr=b""):
    return dp_msg(bytes([0, ctr_mode]), ctr, None, u16(len(body)) + body)


one = lambda m, ctl=0: u8(2) + u8(ctl) + m
batch = lambda ms: u8(1) + u8(len(ms) - 2) + b"".join(ms)


def gen_data_path(sets):
    payloads = [d[2] for d in sets[6]["data"]]
    write("data_path", "v4_in_order", u8(0) + b"".join(one(dp_ip(0, payload=p[:64]))
                                                         for p in payloads))
    write("data_path", "v6_and_other_sources", u8(0) +
          one(dp_ip(0, ver6=True, payload=payloads[0][:32])) + one(dp_ip(0, who=1)) +
          one(dp_ip(0, ver6=True, who=2)))
    write("data_path", "replayed", u8(0) + one(dp_ip(0)) + one(dp_ip(2, u16(1))) + one(dp_ip(0)))
    write("data_path", "window_edge", u8(0) + one(dp_ip(1, u64(WINDOW + 10))) +
          one(dp_ip(1, u64(9))) + one(dp_ip(1, u64(10))) + one(dp_ip(1, u64(11))))
    write("data_path", "limit", u8(0) + one(dp_ip(3, u16(1))) + one(dp_ip(3, u16(2))))
    write("data_path", "tampered", u8(0) + one(dp_ip(0, flip=(20, 1))) + one(dp_ip(2, u16(1))))
    write("data_path", "lying_length", u8(0) + one(dp_ip(0, payload=b"x" * 40, skew=0x10)) +
          one(dp_ip(0, payload=b"y" * 40, pad=15, skew=0xf0)))
    write("data_path", "expired", u8(0) + one(dp_ip(0)) + u8(0) + u16(18000) + one(dp_ip(0)))
    write("data_path", "roaming", u8(0) + one(dp_ip(0), ctl=0x85) + one(dp_ip(0)))
    write("data_path", "raw_oracle", u8(0) + b"".join(one(dp_raw(0, d[2]))
                                                        for d in sets[7]["data"]))
    write("data_path", "gro_tcp_flows", u8(1) + batch([dp_tcp() for _ in range(6)]) +
          batch([dp_tcp(0, True, 1200)] * 3 + [dp_tcp(1, True, 100)]) + one(dp_tcp(0, False, 10)))
    write("data_path", "gro_mixed", u8(1) + batch([dp_tcp(), dp_ip(0), dp_tcp(), dp_tcp(1),
                                                   dp_tcp(1), dp_ip(0, ver6=True)]))


# --- tun_egress: u8 config (bit 0: vnet headers), ops (0 time, 1 handshake, 2 mtu, 3 super-
# packet, 4..6 packet) -------------------------------------------------------------------

def te_packet(pick, length, ver6=False, head=b"", csum=None):
    how = 1 | (2 if ver6 else 0) | (4 if csum else 0)
    n = min(length, 64)
    out = u8(4) + u8(how) + u8(pick) + u16(length) + head.ljust(n, b"\x00")[:n]
    return out + (u16(csum[0]) + u16(csum[1]) if csum else b"")


def te_super(pick, payload, gso, ver6=False, udp=False, doff=0, flags=0x19, ecn=False):
    how = (1 if ver6 else 0) | (2 if udp else 0) | (8 if ecn else 0)
    hdr = (40 if ver6 else 20) + (8 if udp else 4 * (5 + doff % 11))
    out = u8(3) + u8(how) + u8(pick) + u8(doff) + u16(payload) + u16(gso)
    out += bytes(range(min(hdr + payload, 64)))
    return out + (b"" if udp else u8(flags))


def gen_tun_egress(sets):
    hs = u8(1) + u32(77)
    write("tun_egress", "staged_then_flushed", u8(0) +
          te_packet(0, 100) + te_packet(1, 60) + te_packet(0, 40) + hs + te_packet(0, 1500))
    write("tun_egress", "every_route", u8(0) +
          hs + b"".join(te_packet(p, 80, v6) for p in range(4) for v6 in (False, True)))
    write("tun_egress", "mtu_and_big", u8(0) + hs + u8(2) + u16(1280) + te_packet(0, 3000) +
          u8(2) + u16(576) + te_packet(0, 8999, True))
    write("tun_egress", "rekey_and_expiry", u8(0) + hs + te_packet(0, 50) + u8(0) + u16(12100) +
          te_packet(0, 50) + u8(0) + u16(6000) + te_packet(0, 50) + hs + te_packet(0, 50))
    raw = sets[8]["data"][0][2]
    write("tun_egress", "raw", u8(0) + hs + u8(4) + u8(0) + u8(0) + u16(0) + u16(len(raw)) + raw)
    write("tun_egress", "needs_csum", u8(1) + hs + te_packet(0, 60, csum=(20, 16)) +
          te_packet(0, 60, True, csum=(40, 6)))
    write("tun_egress", "super_tcp", u8(1) + hs + te_super(0, 3000, 1000) +
          te_super(0, 2500, 1400, ver6=True, doff=3, flags=0x80 | 0x19) + te_super(1, 100, 30))
    write("tun_egress", "super_udp", u8(1) + hs + te_super(0, 100, 30, udp=True) +
          te_super(0, 4000, 1200, ver6=True, udp=True, ecn=True))
    write("tun_egress", "super_staged", u8(1) + te_super(0, 1000, 100) + te_packet(0, 40) + hs)
    bad_hdr = struct.pack("<BBHHHH", 0, 1, 40, 0, 20, 16)  # TCPv4 with gso_size 0
    write("tun_egress", "super_raw", u8(1) + hs + u8(3) + u8(0x80) + u8(0) + bad_hdr +
          u16(60) + bytes([0x45]) + bytes(59))


# --- allowedips: ops (0,1 insert, 2 remove, 3 remove by peer, 4 lookup) ---------------------

def ai_fresh(v6, addr, cidr):
    return u8(2 if v6 else 0) + addr + u8(cidr)


def gen_allowedips(_sets):
    ops = b""
    ops += u8(0) + u8(1) + ai_fresh(False, bytes([10, 0, 0, 0]), 8)
    ops += u8(0) + u8(2) + ai_fresh(False, bytes([10, 1, 0, 0]), 16)
    ops += u8(4) + ai_fresh(False, bytes([10, 1, 2, 3]), 32)
    ops += u8(2) + u8(2) + ai_fresh(False, bytes([10, 1, 0, 0]), 16)
    ops += u8(4) + ai_fresh(False, bytes([10, 1, 2, 3]), 32)
    write("allowedips", "v4_nested", ops)
    a6 = bytes.fromhex("fd000000000000000000000000000001")
    ops = u8(0) + u8(3) + ai_fresh(True, a6, 64) + u8(0) + u8(4) + ai_fresh(True, a6, 128)
    ops += u8(4) + ai_fresh(True, a6, 0) + u8(3) + u8(4) + u8(4) + ai_fresh(True, a6, 0)
    write("allowedips", "v6_host_and_net", ops)
    ops = u8(0) + u8(5) + ai_fresh(False, bytes(4), 0) + u8(0) + u8(5) + ai_fresh(True, bytes(16), 0)
    ops += u8(0) + u8(6) + ai_fresh(False, bytes(4), 0)  # re-assigned to another peer
    ops += u8(0) + u8(8) + ai_fresh(False, bytes(4), 33)  # NULL peer, bad cidr
    write("allowedips", "default_routes", ops)
    h = hashlib.blake2s(b"wgd fuzz allowedips").digest()
    ops = b""
    for i in range(40):  # many /24..32 siblings, as Linux's selftest does
        h = hashlib.blake2s(h).digest()
        ops += u8(0) + u8(h[0] % 8) + ai_fresh(False, bytes([192, 168, h[1], h[2]]), 24 + h[3] % 9)
        ops += u8(4) + ai_fresh(False, bytes([192, 168, h[1], h[4]]), 32)
    write("allowedips", "siblings", ops)


# --- replay: {u8 mode, value}; mode 0 = absolute u64 ------------------------------------------

def gen_replay(_sets):
    L = WINDOW + 1
    table = [0, 1, 1, 9, 8, 7, 7, L, L - 1, L - 1, L - 2, 2, 2, L + 16, 3, L + 16, L * 4,
             L * 4 - (L - 1), 10, L * 4 - L, L * 4 - (L + 1), L * 4 - (L - 2), L * 4 + 1 - L,
             0, REJECT, REJECT - 1, REJECT, REJECT - 1, REJECT - 2, REJECT + 1, REJECT + 2,
             REJECT - 2, REJECT - 3, 0]
    write("replay", "kernel_table", b"".join(u8(0) + u64(c) for c in table))
    write("replay", "ring_wrap", b"".join(u8(1) + u16(64 * k + 63) for k in range(130)))
    write("replay", "backwards", u8(1) + u16(9000) + b"".join(u8(2) + u16(k) for k in
                                                               (0, 8127, 8128, 8129, 8200)))


# --- text targets: the golden files --------------------------------------------------------

def gen_text(_sets):
    for path in ["tests/golden/uapi/get_basic.set"] + sorted(glob.glob("tests/golden/ctl/*.req")):
        write("uapi", os.path.basename(path), open(path, "rb").read())
    write("uapi", "get", b"get=1\n\n")
    write("uapi", "set_get_remove", b"set=1\nprivate_key=" + b"11" * 32 +
          b"\npublic_key=" + b"ab" * 32 + b"\nallowed_ip=10.0.0.0/8\n\nget=1\n\nset=1\n"
          b"public_key=" + b"ab" * 32 + b"\nremove=true\n\nget=1\n\n")
    for path in sorted(glob.glob("tests/golden/conf/ok_*.conf")) + \
            sorted(glob.glob("tests/golden/conf/bad_*.conf"))[:12]:
        write("conf", os.path.basename(path), open(path, "rb").read())
    for path in sorted(glob.glob("tests/golden/ctl/*.args")):
        args = open(path, "rb").read().rstrip(b"\n").split(b"\n")
        write("ctl_argv", os.path.basename(path), b"\0".join(args))
    write("ctl_argv", "genkey", b"genkey")
    write("ctl_argv", "show_field", b"show\0wg0\0allowed-ips")
    write("ctl_argv", "peer_add", b"peer\0add\0wg0\0" + b"yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws="
          b"\0allowed-ips\0+10.0.0.0/8,-fd00::/64\0endpoint\0[::1]:51820\0keepalive\0off\0--save")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    sets = oracle_sets(9)
    for gen in (gen_ingress, gen_initiation, gen_response, gen_cookie, gen_data_path,
                gen_tun_egress, gen_allowedips, gen_replay, gen_text):
        gen(sets)


if __name__ == "__main__":
    main()
