#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent WireGuard v1 packet oracle for wgd's unit tests.

Written from the whitepaper (https://www.wireguard.com/papers/wireguard.pdf, §5.4.2-§5.4.7)
and the reference card /work/shared/PROTOCOL.md §1, not from wgd's C. The primitives come
from other people's code: hashlib.blake2s and hmac (HASH, MAC, HMAC, KDFn),
python3-cryptography (X25519, ChaCha20-Poly1305) and python3-nacl (XChaCha20-Poly1305).

For VECTOR_SETS fixed sets of keys, ephemerals, indices, timestamps, a cookie secret, a
cookie nonce, a source address and payloads -- all derived from blake2s("wgd oracle
vector N field") so the output never changes -- it builds the handshake initiation (mac1,
zero mac2), the response (mac1), the cookie reply to the initiation, the initiation again
with mac2 from that cookie, and transport data packets in both directions, then prints a C
header (struct oracle_vector oracle_vectors[]) on stdout.

Usage (the Makefile's rule):
    /usr/bin/python3 tests/oracle/wg_oracle.py > build/tests/vectors/oracle_vectors.h

Before printing anything it checks itself: the Noise constants against PROTOCOL.md §4 c.3,
HMAC-BLAKE2s against wireguard-go's kdf_test.go T0 (PROTOCOL.md §4 c.2), and every
handshake by replaying it from the other side (the responder decrypts the initiation, the
initiator opens the response, both derive the same transport keys, each data packet and
the cookie reply decrypt back).
"""

import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import (crypto_aead_xchacha20poly1305_ietf_decrypt,
                           crypto_aead_xchacha20poly1305_ietf_encrypt)

VECTOR_SETS = 64
DATA_PER_SET = 4  # two initiator -> responder, then two responder -> initiator

# Whitepaper §5.4.1 and §5.4.4.
CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
LABEL_COOKIE = b"cookie--"

# Wire types and sizes (whitepaper §5.4.2, §5.4.3, §5.4.7, §5.4.6).
TYPE_INITIATION, TYPE_RESPONSE, TYPE_COOKIE, TYPE_DATA = 1, 2, 3, 4
INITIATION_LEN, RESPONSE_LEN, COOKIE_REPLY_LEN, DATA_HEADER_LEN = 148, 92, 64, 16
TAG_LEN = 16
PADDING_MULTIPLE = 16

# TAI64N (whitepaper §5.4.2; PROTOCOL.md §1): label 2^62 + 10, nanoseconds rounded down
# to 2^24 ns as the kernel and wireguard-go do.
TAI64_BASE = 0x400000000000000A
TAI64N_WHITENER = (1 << 24) - 1
NSEC_PER_SEC = 10 ** 9

# Counter limits (whitepaper §6.1 and PROTOCOL.md §1).
REKEY_AFTER_MESSAGES = 1 << 60
REJECT_AFTER_MESSAGES = (1 << 64) - 1 - 8128 - 1


# ---- primitives, named as in the whitepaper's §5.4 notation ----------------------------------

def HASH(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def MAC(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def HMAC(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def KDF(n, key, data):
    """KDFn (whitepaper §5.4): t0 = HMAC(key, data), t_i = HMAC(t0, t_{i-1} || i)."""
    t0 = HMAC(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i]))
        out.append(prev)
    return out


def clamp(priv):
    b = bytearray(priv)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return bytes(b)


def DH_PUB(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def DH(priv, pub):
    return X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pub))


def aead_nonce(counter):
    # 32 zero bits, then the 64-bit counter little-endian (whitepaper §5.4, AEAD).
    return b"\x00" * 4 + struct.pack("<Q", counter)


def AEAD(key, counter, plain, ad):
    return ChaCha20Poly1305(key).encrypt(aead_nonce(counter), plain, ad)


def AEAD_OPEN(key, counter, sealed, ad):
    return ChaCha20Poly1305(key).decrypt(aead_nonce(counter), sealed, ad)


def XAEAD(key, nonce, plain, ad):
    return crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, nonce, key)


def XAEAD_OPEN(key, nonce, sealed, ad):
    return crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, ad, nonce, key)


def tai64n(unix_ns):
    sec, nsec = divmod(unix_ns, NSEC_PER_SEC)
    return struct.pack(">QI", TAI64_BASE + sec, nsec & ~TAI64N_WHITENER)


# ---- deterministic inputs -----------------------------------------------------------------

def derive(n, field, length=32):
    """length bytes from blake2s("wgd oracle vector N field" || counter)."""
    label = b"wgd oracle vector %d %s" % (n, field.encode())
    out = b""
    block = 0
    while len(out) < length:
        out += HASH(label, struct.pack("<I", block))
        block += 1
    return out[:length]


def derive_int(n, field, bound):
    return int.from_bytes(derive(n, field, 8), "little") % bound


# ---- the handshake (whitepaper §5.4.2, §5.4.3) ---------------------------------------------

def initial_state(responder_pub):
    c = HASH(CONSTRUCTION)
    h = HASH(c, IDENTIFIER)
    return c, HASH(h, responder_pub)


def mac1_of(msg_before_mac1, receiver_pub):
    return MAC(HASH(LABEL_MAC1, receiver_pub), msg_before_mac1)


def create_initiation(v):
    """Initiator, message 1; returns the packet and the handshake state (C, H)."""
    c, h = initial_state(v["responder_public"])
    e_pub = DH_PUB(v["initiator_ephemeral"])
    c = KDF(1, c, e_pub)[0]                                          # e
    h = HASH(h, e_pub)
    c, k = KDF(2, c, DH(v["initiator_ephemeral"], v["responder_public"]))  # es
    enc_static = AEAD(k, 0, v["initiator_public"], h)                # s
    h = HASH(h, enc_static)
    c, k = KDF(2, c, DH(v["initiator_private"], v["responder_public"]))    # ss
    enc_time = AEAD(k, 0, tai64n(v["unix_ns"]), h)                   # {t}
    h = HASH(h, enc_time)
    body = struct.pack("<II", TYPE_INITIATION, v["initiator_index"]) + e_pub + enc_static + enc_time
    body += mac1_of(body, v["responder_public"])
    return body + b"\x00" * 16, (c, h)


def consume_initiation(v, msg):
    """The responder's view of message 1: recovers S_i and the timestamp, returns (C, H)."""
    assert len(msg) == INITIATION_LEN and msg[:4] == b"\x01\x00\x00\x00"
    assert msg[116:132] == mac1_of(msg[:116], v["responder_public"])
    c, h = initial_state(v["responder_public"])
    e_pub = msg[8:40]
    c = KDF(1, c, e_pub)[0]
    h = HASH(h, e_pub)
    c, k = KDF(2, c, DH(v["responder_private"], e_pub))
    s_pub = AEAD_OPEN(k, 0, msg[40:88], h)
    assert s_pub == v["initiator_public"]
    h = HASH(h, msg[40:88])
    c, k = KDF(2, c, DH(v["responder_private"], s_pub))
    assert AEAD_OPEN(k, 0, msg[88:116], h) == tai64n(v["unix_ns"])
    return c, HASH(h, msg[88:116])


def response_tail(c, h, psk):
    """The part of message 2 both sides compute identically after the two DHs."""
    c, tau, k = KDF(3, c, psk)                                       # psk
    h = HASH(h, tau)
    empty = AEAD(k, 0, b"", h)                                       # {}
    return c, HASH(h, empty), empty


def create_response(v, state):
    c, h = state
    e_pub = DH_PUB(v["responder_ephemeral"])
    c = KDF(1, c, e_pub)[0]                                          # e
    h = HASH(h, e_pub)
    c = KDF(1, c, DH(v["responder_ephemeral"], DH_PUB(v["initiator_ephemeral"])))[0]  # ee
    c = KDF(1, c, DH(v["responder_ephemeral"], v["initiator_public"]))[0]            # se
    c, h, empty = response_tail(c, h, v["psk"])
    body = struct.pack("<III", TYPE_RESPONSE, v["responder_index"], v["initiator_index"])
    body += e_pub + empty
    body += mac1_of(body, v["initiator_public"])
    return body + b"\x00" * 16, (c, h)


def consume_response(v, state, msg):
    """The initiator's view of message 2, from its own private keys."""
    assert len(msg) == RESPONSE_LEN and msg[:4] == b"\x02\x00\x00\x00"
    assert msg[60:76] == mac1_of(msg[:60], v["initiator_public"])
    c, h = state
    e_pub = msg[12:44]
    c = KDF(1, c, e_pub)[0]
    h = HASH(h, e_pub)
    c = KDF(1, c, DH(v["initiator_ephemeral"], e_pub))[0]
    c = KDF(1, c, DH(v["initiator_private"], e_pub))[0]
    c, tau, k = KDF(3, c, v["psk"])
    h = HASH(h, tau)
    assert AEAD_OPEN(k, 0, msg[44:60], h) == b""
    return c, HASH(h, msg[44:60])


def transport_keys(c):
    # Whitepaper §5.4.5: (T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, ε).
    return KDF(2, c, b"")


# ---- cookies (whitepaper §5.4.7) -----------------------------------------------------------

def cookie_reply(v, initiation):
    cookie = MAC(v["cookie_secret"], v["source"])
    key = HASH(LABEL_COOKIE, v["responder_public"])
    sealed = XAEAD(key, v["cookie_nonce"], cookie, initiation[116:132])
    msg = struct.pack("<II", TYPE_COOKIE, v["initiator_index"]) + v["cookie_nonce"] + sealed
    assert XAEAD_OPEN(HASH(LABEL_COOKIE, v["responder_public"]), msg[8:32], msg[32:64],
                      initiation[116:132]) == cookie
    return msg, cookie


def with_mac2(initiation, cookie):
    return initiation[:132] + MAC(cookie, initiation[:132])


# ---- transport data (whitepaper §5.4.6) ----------------------------------------------------

def padded_len(plain_len, mtu):
    # Zero padding to a multiple of 16, never beyond the MTU (and never truncating).
    aligned = -(-plain_len // PADDING_MULTIPLE) * PADDING_MULTIPLE
    return max(plain_len, min(aligned, mtu))


def data_packet(key, receiver_index, counter, payload, mtu):
    plain = payload + b"\x00" * (padded_len(len(payload), mtu) - len(payload))
    hdr = struct.pack("<IIQ", TYPE_DATA, receiver_index, counter)
    return hdr + AEAD(key, counter, plain, b"")


# ---- the vector sets ----------------------------------------------------------------------

MTUS = [1420, 1500, 1280, 1412, 9000, 1440, 1500, 1420]
MUST_LENGTHS = [0, 1, 15, 16, 17, 1420, 1500]
# Lengths for the first sets, four per set in packet order (two initiator -> responder, then
# two back). A negative entry is relative to the set's cap = min(MTU, 1500): -1 is the cap
# itself, -2 one below it. Later sets draw their lengths at random.
FIXED_LENGTHS = [
    0, -1, 0, -2,          # MTU 1420: keepalives both ways, 1420 and 1419 (pads to the MTU)
    1, -1, 17, -16,        # MTU 1500: 1500 (no padding room), 1485 (pads to 1496)
    15, 16, -1, -2,        # MTU 1280: a multiple of 16
    14, 31, 32, 33,        # MTU 1412
    0, 1420, 1, -1,        # MTU 9000: 1420 pads to 1424, the cap is 1500
]
SPECIAL_COUNTERS = [1, 2, 255, 256, 8127, 8128, 8129, (1 << 32) - 1, 1 << 32,
                    REKEY_AFTER_MESSAGES - 1, REKEY_AFTER_MESSAGES, REJECT_AFTER_MESSAGES - 1]
SPECIAL_TIMES = [
    0,                                                   # the Unix epoch itself
    1 * NSEC_PER_SEC + (1 << 24) - 1,                    # just below the first 2^24 step
    1700000000 * NSEC_PER_SEC + 5 * (1 << 24),           # exactly on a step
    1700000000 * NSEC_PER_SEC + NSEC_PER_SEC - 1,        # 999999999 ns rounds to 59 * 2^24
    (1 << 32) * NSEC_PER_SEC + 123456789,                # seconds past 32 bits
]


def payload_lengths(n, mtu):
    """DATA_PER_SET lengths, each <= min(mtu, 1500)."""
    cap = min(mtu, 1500)
    out = []
    for j in range(DATA_PER_SET):
        k = n * DATA_PER_SET + j
        if k < len(FIXED_LENGTHS):
            length = FIXED_LENGTHS[k]
            out.append(cap + 1 + length if length < 0 else length)
        elif j % 2 == 0:
            out.append(derive_int(n, "length %d" % j, 129))     # small: keepalives, ACKs
        else:
            out.append(derive_int(n, "length %d" % j, cap + 1))
    assert all(0 <= x <= cap for x in out)
    return out


def counters(n):
    """First packet of each direction uses counter 0, the second a special or random one."""
    out = []
    for j in range(DATA_PER_SET):
        if j % 2 == 0:
            out.append(0 if n % 4 else derive_int(n, "counter %d" % j, 1 << 16))
        else:
            k = (n * 2 + j // 2) % (len(SPECIAL_COUNTERS) * 2)
            out.append(SPECIAL_COUNTERS[k] if k < len(SPECIAL_COUNTERS)
                       else derive_int(n, "counter %d" % j, REJECT_AFTER_MESSAGES))
    return out


def source_address(n):
    # IP bytes then the port big-endian (PROTOCOL.md §1: what the kernel hashes).
    port = struct.pack(">H", derive_int(n, "port", 65536))
    if n % 2:
        return derive(n, "ipv6", 16) + port
    return derive(n, "ipv4", 4) + port


def make_inputs(n):
    v = {
        "initiator_private": clamp(derive(n, "initiator static")),
        "responder_private": clamp(derive(n, "responder static")),
        "initiator_ephemeral": clamp(derive(n, "initiator ephemeral")),
        "responder_ephemeral": clamp(derive(n, "responder ephemeral")),
        "has_psk": n % 3 != 0,
        "initiator_index": struct.unpack("<I", derive(n, "initiator index", 4))[0],
        "responder_index": struct.unpack("<I", derive(n, "responder index", 4))[0],
        "cookie_secret": derive(n, "cookie secret"),
        "cookie_nonce": derive(n, "cookie nonce", 24),
        "source": source_address(n),
        "mtu": MTUS[n % len(MTUS)],
    }
    if n < len(SPECIAL_TIMES):
        v["unix_ns"] = SPECIAL_TIMES[n]
    else:  # any nanosecond from 2001 to about 2100
        century = 100 * 365 * 86400 * NSEC_PER_SEC
        v["unix_ns"] = 978307200 * NSEC_PER_SEC + derive_int(n, "time", century)
    if n == 5:
        v["initiator_index"], v["responder_index"] = 0, 0xFFFFFFFF
    v["psk"] = derive(n, "preshared key") if v["has_psk"] else b"\x00" * 32
    v["initiator_public"] = DH_PUB(v["initiator_private"])
    v["responder_public"] = DH_PUB(v["responder_private"])
    return v


def build(n):
    v = make_inputs(n)
    v["initiation"], init_state = create_initiation(v)
    resp_state = consume_initiation(v, v["initiation"])
    assert resp_state == init_state
    v["response"], resp_state = create_response(v, resp_state)
    init_state = consume_response(v, init_state, v["response"])
    assert init_state == resp_state
    send_i, send_r = transport_keys(init_state[0])
    v["key_i_to_r"], v["key_r_to_i"] = send_i, send_r
    v["cookie_reply"], cookie = cookie_reply(v, v["initiation"])
    v["initiation_mac2"] = with_mac2(v["initiation"], cookie)
    v["data"] = []
    for j, (length, ctr) in enumerate(zip(payload_lengths(n, v["mtu"]), counters(n))):
        from_initiator = j < DATA_PER_SET // 2
        key, recv_idx = (send_i, v["responder_index"]) if from_initiator else \
            (send_r, v["initiator_index"])
        payload = derive(n, "payload %d" % j, length)
        pkt = data_packet(key, recv_idx, ctr, payload, v["mtu"])
        plain = AEAD_OPEN(key, ctr, pkt[16:], b"")
        assert plain[:length] == payload and not any(plain[length:])
        assert len(plain) % 16 == 0 or len(plain) == v["mtu"]
        v["data"].append((from_initiator, ctr, payload, pkt))
    return v


def self_test():
    # PROTOCOL.md §4 c.3 (also boringtun and wireguard-rs constants).
    c0 = HASH(CONSTRUCTION)
    assert c0.hex() == "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"
    assert HASH(c0, IDENTIFIER).hex() == \
        "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3"
    # PROTOCOL.md §4 c.2 (wireguard-go device/kdf_test.go). What that file and the card
    # call "T0" is the first KDF output, HMAC(HMAC(key, input), 0x1), not the PRK.
    assert KDF(1, b"test-key", b"test-input")[0].hex() == \
        "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633"
    assert KDF(1, b"wireguard", b"wireguard")[0].hex() == \
        "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8"
    assert KDF(1, b"", b"")[0].hex() == \
        "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0"
    # RFC 7748 §6.1.
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob_pub = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    assert DH(alice, bob_pub).hex() == \
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert tai64n(NSEC_PER_SEC - 1) == bytes.fromhex("400000000000000a" "3b000000")
    assert padded_len(0, 1420) == 0 and padded_len(1419, 1420) == 1420
    assert padded_len(1401, 1420) == 1408 and padded_len(1500, 1500) == 1500


# ---- C output -----------------------------------------------------------------------------

def c_bytes(b, indent="\t\t"):
    """A C string literal of \\x escapes, on the same line if short, else wrapped."""
    if len(b) <= 32:
        return ' "' + "".join("\\x%02x" % x for x in b) + '"'
    lines = []
    for i in range(0, len(b), 32):
        lines.append(indent + '"' + "".join("\\x%02x" % x for x in b[i:i + 32]) + '"')
    return "\n" + "\n".join(lines)


def emit_vector(out, n, v):
    w = out.append
    family = "IPv6" if len(v["source"]) == 18 else "IPv4"
    w("\t{ /* set %d: %s, MTU %d, %s source */" % (
        n, "PSK" if v["has_psk"] else "no PSK", v["mtu"], family))
    for f in ("initiator_private", "initiator_public", "responder_private", "responder_public",
              "initiator_ephemeral", "responder_ephemeral"):
        w("\t\t.%s =%s," % (f, c_bytes(v[f], "\t\t\t")))
    w("\t\t.has_psk = %s," % ("true" if v["has_psk"] else "false"))
    if v["has_psk"]:
        w("\t\t.psk =%s," % c_bytes(v["psk"], "\t\t\t"))
    w("\t\t.initiator_index = 0x%08xU," % v["initiator_index"])
    w("\t\t.responder_index = 0x%08xU," % v["responder_index"])
    w("\t\t.unix_ns = %dULL," % v["unix_ns"])
    for f in ("initiation", "response", "key_i_to_r", "key_r_to_i", "cookie_secret",
              "cookie_nonce"):
        w("\t\t.%s =%s," % (f, c_bytes(v[f], "\t\t\t")))
    w("\t\t.source =%s," % c_bytes(v["source"], "\t\t\t"))
    w("\t\t.source_len = %d," % len(v["source"]))
    for f in ("cookie_reply", "initiation_mac2"):
        w("\t\t.%s =%s," % (f, c_bytes(v[f], "\t\t\t")))
    w("\t\t.mtu = %d," % v["mtu"])
    w("\t\t.data = {")
    for from_i, ctr, payload, pkt in v["data"]:
        w("\t\t\t{ .from_initiator = %s, .counter = %dULL, .payload_len = %d, .packet_len = %d," % (
            "true" if from_i else "false", ctr, len(payload), len(pkt)))
        w("\t\t\t  .payload = (const uint8_t *)%s," % c_bytes(payload, "\t\t\t\t"))
        w("\t\t\t  .packet = (const uint8_t *)%s }," % c_bytes(pkt, "\t\t\t\t"))
    w("\t\t},")
    w("\t},")


HEADER = """/* SPDX-License-Identifier: MIT */
/*
 * GENERATED by tests/oracle/wg_oracle.py -- do not edit.
 *
 * WireGuard packets built by an independent Python implementation of the whitepaper
 * (§5.4) from hashlib.blake2s/hmac, python3-cryptography (X25519, ChaCha20-Poly1305)
 * and python3-nacl (XChaCha20-Poly1305). Every input is derived from blake2s of
 * "wgd oracle vector N field". Private keys are already clamped. initiation has mac1 and
 * a zero mac2; cookie_reply answers it (AD = its mac1) with the cookie
 * MAC(cookie_secret, source); initiation_mac2 is the same initiation with mac2 from that
 * cookie. Data packets are sealed under key_i_to_r (from_initiator) or key_r_to_i at the
 * given counter, padded to 16 but never beyond mtu.
 */
#ifndef WGD_ORACLE_VECTORS_H
#define WGD_ORACLE_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORACLE_VECTOR_SETS %d
#define ORACLE_DATA_PER_SET %d

struct oracle_data {
	bool from_initiator;
	uint64_t counter;
	size_t payload_len;
	size_t packet_len;
	const uint8_t *payload;
	const uint8_t *packet;
};

struct oracle_vector {
	uint8_t initiator_private[32];
	uint8_t initiator_public[32];
	uint8_t responder_private[32];
	uint8_t responder_public[32];
	uint8_t initiator_ephemeral[32];
	uint8_t responder_ephemeral[32];
	bool has_psk;
	uint8_t psk[32];
	uint32_t initiator_index;
	uint32_t responder_index;
	uint64_t unix_ns;
	uint8_t initiation[148];
	uint8_t response[92];
	uint8_t key_i_to_r[32];
	uint8_t key_r_to_i[32];
	uint8_t cookie_secret[32];
	uint8_t cookie_nonce[24];
	uint8_t source[18];
	size_t source_len;
	uint8_t cookie_reply[64];
	uint8_t initiation_mac2[148];
	size_t mtu;
	struct oracle_data data[ORACLE_DATA_PER_SET];
};

static const struct oracle_vector oracle_vectors[ORACLE_VECTOR_SETS] = {"""


def main():
    self_test()
    out = [HEADER % (VECTOR_SETS, DATA_PER_SET)]
    lengths, psks = set(), set()
    for n in range(VECTOR_SETS):
        v = build(n)
        lengths.update(len(d[2]) for d in v["data"])
        psks.add(v["has_psk"])
        emit_vector(out, n, v)
    missing = set(MUST_LENGTHS) - lengths
    assert not missing, "payload lengths not covered: %s" % sorted(missing)
    assert psks == {False, True} and VECTOR_SETS >= 50
    out.append("};\n\n#endif")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
