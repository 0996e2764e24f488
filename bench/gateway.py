# SPDX-License-Identifier: MIT
"""The one-sided gateway benchmark: ONE daemon in namespace B, tests/tools/gwload in A as its
only peer (a real handshake, then pre-sealed data in and plain packets out; see gwload.c).
A pair shares the machine's cores between both ends and cannot show how one gateway
scales; this measures a single daemon, with `Threads = 1` and `Threads = 2` for wgd and
Debian's wireguard-go under the same generator.

In B the inner destination of the decrypt direction (198.18.9.0/24) is a blackhole route
with forwarding on, so the kernel drops what the daemon delivers without answering; the
daemon's TUN rx counters say how much it delivered.
"""
import json
import os

from report import fmt
from topo import OUTER_B, BenchError, Daemon, run

SIZES = ("64", "512", "1420", "tso")
DIRS = ("decrypt", "decrypt-gso", "encrypt")
DAEMON_INNER, GEN_INNER, SINK = "198.18.8.1", "198.18.8.2", "198.18.9.1"
SINK_NET = "198.18.9.0/24"
PORT = 51850
# (label, implementation, Threads = N or None for the daemon's default)
CONFIGS = (("wgd T1", "wgd", 1), ("wgd T2", "wgd", 2), ("wireguard-go", "wireguard-go", None))
LABELS = ("wgd T1", "wgd T2", "wgd", "wireguard-go")


class Unsupported(Exception):
    """The daemon does not know the `Threads` key: that configuration is n/a."""


def metric(direction, size, unit):
    return f"gw_{direction}_{size}_{unit}"


class GatewayBench:
    def __init__(self, topo, binaries, gwload, duration, pool_mb, genkey):
        self.topo, self.binaries, self.gwload = topo, binaries, gwload
        self.duration, self.pool_mb, self.genkey = duration, pool_mb, genkey
        self.unsupported = {}  # label -> why
        self.is_set_up = False

    def setup(self):
        ns = self.topo.ns_b
        run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], 10, ns=ns)
        run(["ip", "-n", ns, "route", "add", "blackhole", SINK_NET], 10)
        self.gen_priv, self.gen_pub = self.genkey()
        self.key_file = os.path.join(self.topo.workdir, "gw-generator.key")
        with open(self.key_file, "w") as f:
            f.write(self.gen_priv + "\n")
        self.is_set_up = True

    def write_conf(self, label, threads):
        priv, pub = self.genkey()
        path = os.path.join(self.topo.workdir, f"gw-{label.replace(' ', '-')}.conf")
        with open(path, "w") as f:
            f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = {PORT}\n"
                    + (f"Threads = {threads}\n" if threads else "")
                    + f"\n[Peer]\nPublicKey = {self.gen_pub}\nAllowedIPs = {GEN_INNER}/32\n")
        return path, pub

    def start(self, label, impl, threads):
        """The daemon under test, configured; Unsupported if it refuses Threads."""
        conf, pub = self.write_conf(label, threads)
        d = Daemon(self.topo, impl, self.binaries[impl], self.topo.ns_b,
                   self.topo.ifname("bw" + label[-1].lower()))
        try:
            if threads:
                d.start(conf)  # Threads is no wg(8) key: wgd reads it from its own file
            else:
                d.start()
                d.setconf(conf)
            d.link_up(DAEMON_INNER)
        except BenchError as e:
            d.stop()
            if threads and "Threads" in str(e):
                raise Unsupported(str(e).rsplit(": ", 1)[-1]) from None
            raise
        return d, pub

    def configs(self):
        """CONFIGS, or the daemon's default wgd when it refuses `Threads` (self.unsupported)."""
        if not self.is_set_up:
            self.setup()
        try:
            d, _ = self.start("wgd T1", "wgd", 1)
            d.stop()
            return CONFIGS
        except Unsupported as e:
            for label, _, threads in CONFIGS[:2]:
                self.unsupported[label] = f"this wgd refuses `Threads = {threads}`: {e}"
            return (("wgd", "wgd", None),) + CONFIGS[2:]

    def run(self, label, impl, threads, sizes=SIZES, dirs=DIRS):
        """gwload against one freshly started daemon: its list of results (gwload.c)."""
        if not self.is_set_up:
            self.setup()
        d, pub = self.start(label, impl, threads)
        try:
            per = self.duration + 2  # plus sealing and draining
            res = run([self.gwload, "--daemon-ns", self.topo.ns_b, "--tun", d.ifname,
                       "--to", OUTER_B, "--to-port", PORT, "--key-file", self.key_file,
                       "--daemon-key", pub, "--inner-gen", GEN_INNER,
                       "--inner-daemon", DAEMON_INNER, "--sink", SINK,
                       "--sizes", ",".join(sizes), "--directions", ",".join(dirs),
                       "--duration", self.duration, "--pool-mb", self.pool_mb],
                      per * len(sizes) * len(dirs) + 30, ns=self.topo.ns_a, check=False)
        finally:
            d.stop()
        try:
            doc = json.loads(res.stdout)
        except ValueError:
            raise BenchError(f"gateway {label}: gwload exited with {res.returncode}: "
                             + res.stderr.strip()[-300:]) from None
        if res.returncode:
            raise BenchError(f"gateway {label}: gwload exited with {res.returncode}: "
                             + res.stderr.strip()[-300:])
        return doc["results"]


def markdown(summarize, samples, unsupported, duration):
    """The gateway table: packets/s and Gbit/s per configuration, and the ratios."""
    labels = [lb for lb in LABELS if any(samples.get(metric(d, s, "pps"), {}).get(lb)
                                         for d in DIRS for s in SIZES)]
    if not labels and not unsupported:
        return []
    med = {}
    for key, per in samples.items():
        for lb, vals in per.items():
            s = summarize(vals)
            med[key, lb] = s["median"] if s else None
    lines = ["## One-sided gateway (gwload)", "",
             f"One daemon in namespace B, `gwload` in A as its only peer, {duration} s per "
             "cell; medians of the runs. decrypt: pre-sealed datagrams in, the daemon's TUN "
             "writes counted (decrypt-gso: the same datagrams sent as UDP GSO batches, a cheaper "
             "generator); encrypt: plain packets written into its TUN, sealed datagrams "
             "counted at gwload. Packets/s, then Gbit/s of inner IP bytes; tso: 1420-byte "
             "TCP segments of one flow (decrypt, counted per TUN write, which may be a GRO "
             "super-packet) or 64 KiB TSO super-packets (encrypt, counted per 1420-byte "
             "segment sealed).", ""]
    for lb, why in unsupported.items():
        lines.append(f"- {lb}: n/a ({why}); the column `wgd` is the daemon's default instead.")
    if unsupported:
        lines.append("")
    head = ["direction", "size"] + [f"{lb} pkt/s" for lb in labels] + \
        [f"{lb} Gbit/s" for lb in labels]
    ratio_cols = []
    if "wgd T1" in labels and "wgd T2" in labels:
        ratio_cols.append(("T2 / T1", "wgd T2", "wgd T1"))
    best = next((lb for lb in ("wgd T2", "wgd", "wgd T1") if lb in labels), None)
    if best and "wireguard-go" in labels:
        ratio_cols.append((f"{best} / go", best, "wireguard-go"))
    head += [c[0] for c in ratio_cols]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "--:|" * (len(head) - 2)]
    for d in DIRS:
        for s in SIZES:
            pps = [med.get((metric(d, s, "pps"), lb)) for lb in labels]
            if not any(pps):
                continue
            gbps = [med.get((metric(d, s, "gbps"), lb)) for lb in labels]
            cells = [fmt(v) for v in pps + gbps]
            for _, a, b in ratio_cols:
                va, vb = med.get((metric(d, s, "pps"), a)), med.get((metric(d, s, "pps"), b))
                cells.append(f"{va / vb:.2f}×" if va and vb else "–")
            lines.append(f"| {d} | {s} | " + " | ".join(cells) + " |")
    return lines + [""]
