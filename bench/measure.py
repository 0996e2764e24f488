# SPDX-License-Identifier: MIT
"""The measurements of bench.py. Each function takes one sample and returns a dict of
numbers, or raises BenchError when the sample could not be taken."""
import json
import os
import re
import time

from topo import (BenchError, Daemon, HS_SRC_NET, OUTER_B, SHORT, ping_ok, run, wait_until)

IPERF_PORT = 5201
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Target:
    """Something to measure between namespace A and B: a tunnel (two daemons) or the veth."""

    def __init__(self, name, addr_b, daemons=()):
        self.name, self.addr_b, self.daemons = name, addr_b, list(daemons)

    def cpu_ticks(self):
        return sum(d.cpu_ticks() for d in self.daemons)

    def check(self, topo):
        """The path must carry a ping right before we measure it."""
        if not ping_ok(topo.ns_a, self.addr_b, tries=5):
            raise BenchError(f"{self.name}: {self.addr_b} does not answer pings from A")


def tcp_listening(ns, port):
    out = run(["ss", "-Hltn", f"sport = :{port}"], 5, ns=ns, check=False).stdout
    return bool(out.strip())


def iperf(topo, target, mode, duration):
    """One iperf3 test from A to B: mode is tcp1, tcp4 or udp. Also the daemons' CPU."""
    target.check(topo)
    server = topo.spawn(topo.ns_b, ["iperf3", "-s", "-1", "-p", IPERF_PORT], "iperf3-server")
    try:
        wait_until("iperf3 server", 10, lambda: server.poll() is not None
                   or tcp_listening(topo.ns_b, IPERF_PORT))
        args = ["iperf3", "-c", target.addr_b, "-p", IPERF_PORT, "-t", duration, "-J"]
        args += {"tcp1": [], "tcp4": ["-P", "4"], "udp": ["-u", "-b", "0", "-l", "1392"]}[mode]
        ticks0, t0 = target.cpu_ticks(), time.monotonic()
        res = run(args, duration + 30, ns=topo.ns_a, check=False)
        ticks1 = target.cpu_ticks()
        out = parse_iperf(res.stdout, res.returncode, f"{target.name} {mode}")
    finally:
        topo.stop(server, grace=3)
    out["wall_s"] = time.monotonic() - t0
    if target.daemons:
        out["cpu_s"] = (ticks1 - ticks0) / CLK_TCK
        out["cpu_s_per_gb"] = out["cpu_s"] / (out["bytes"] / 1e9) if out["bytes"] else None
    return out


def parse_iperf(text, rc, what):
    try:
        doc = json.loads(text)
    except ValueError:
        raise BenchError(f"{what}: iperf3 exited with {rc} and printed no JSON") from None
    if doc.get("error"):
        raise BenchError(f"{what}: iperf3: {doc['error']}")
    recv = doc.get("end", {}).get("sum_received")
    if not recv or not recv.get("bytes"):
        raise BenchError(f"{what}: iperf3 reports nothing received")
    out = {"mbps": recv["bits_per_second"] / 1e6, "bytes": recv["bytes"],
           "seconds": recv["seconds"]}
    if "lost_percent" in recv:
        out["loss_pct"] = recv["lost_percent"]
    return out


RTT_RE = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")


def rtt(topo, target, count, interval):
    """ping through the path: average and mean deviation in ms."""
    target.check(topo)
    res = run(["ping", "-n", "-q", "-c", count, "-i", interval, "-W", "1", target.addr_b],
              count * interval + 15, ns=topo.ns_a, check=False)
    m = RTT_RE.search(res.stdout)
    if not m:
        raise BenchError(f"{target.name} rtt: no reply ({res.stdout.strip()[-120:]})")
    received = re.search(r"(\d+) received", res.stdout)
    return {"avg_ms": float(m.group(2)), "mdev_ms": float(m.group(4)),
            "received": int(received.group(1)) if received else None, "sent": count}


def x25519(hsload, seconds):
    """crypto_scalarmult per second on one core, and the handshake bound derived from it.

    A responder does one variable-base X25519 to consume an initiation (es; ss is
    computed once per peer and kept) and three for its response (a fixed-base one to make its
    ephemeral key, then ee and se): 3 variable + 1 fixed per handshake."""
    res = run([hsload, "x25519", seconds], seconds + 15)
    rates = json.loads(res.stdout)
    var, base = rates["variable_base_per_s"], rates["fixed_base_per_s"]
    per_core = 1 / (3 / var + 1 / base)
    return {"variable_base_per_s": var, "fixed_base_per_s": base,
            "hs_bound_per_core": per_core, "cores": os.cpu_count(),
            "hs_bound_all_cores": per_core * (os.cpu_count() or 1)}


def write_peer_config(path, private_key, port, pubkeys, allowed_base=None):
    """A wg(8) config: our key and port, then one [Peer] per key (with a /32 if asked)."""
    lines = ["[Interface]", f"PrivateKey = {private_key}", f"ListenPort = {port}"]
    for i, pub in enumerate(pubkeys):
        lines += ["[Peer]", f"PublicKey = {pub}"]
        if allowed_base is not None:
            a = allowed_base + i
            lines.append(f"AllowedIPs = {a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}/32")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class HandshakeBench:
    """One responder per implementation in B, hsload in A, one pool of initiations."""

    PORTS = {"wgd": 51830, "wireguard-go": 51831, "wgd T1": 51832, "wgd T2": 51833}
    THREADS = {"wgd T1": 1, "wgd T2": 2}  # wgd responders with `Threads = N` (-c file)
    NKEYS = 1024
    NSOURCES = 2048

    def __init__(self, topo, binaries, hsload, pool_count):
        self.topo, self.binaries, self.hsload = topo, binaries, hsload
        self.pool_count = pool_count
        self.responders = {}

    def setup(self, impls, private_key, public_key):
        work = self.topo.workdir
        self.keys = os.path.join(work, "hs-keys.txt")
        with open(self.keys, "w") as f:
            f.write(run([self.hsload, "keygen", self.NKEYS], 30).stdout)
        with open(self.keys) as f:
            pubs = [line.split()[1] for line in f]
        self.pool = os.path.join(work, "hs-pool.bin")
        run([self.hsload, "pool", "--keys", self.keys, "--responder", public_key,
             "--count", self.pool_count, "--threads", os.cpu_count() or 1,
             "--out", self.pool], 600)
        for impl in impls:
            conf = os.path.join(work, f"hs-{impl}.conf")
            write_peer_config(conf, private_key, self.PORTS[impl], pubs)
            d = Daemon(self.topo, impl, self.binaries[impl], self.topo.ns_b,
                       self.topo.ifname("bh" + SHORT[impl]))
            d.start()
            d.link_up()
            self.responders[impl] = (d, conf)
        self.unsupported = None
        for label, threads in self.THREADS.items():
            try:
                self.start_threaded(label, threads, private_key, pubs)
            except BenchError as e:
                if "Threads" not in str(e):
                    raise
                self.unsupported = f"this wgd refuses `Threads`: {str(e).rsplit(': ', 1)[-1]}"
                break

    def start_threaded(self, label, threads, private_key, pubs):
        """A wgd responder started from its own file with `Threads = N`, then driven with
        wg(8) like the others (Threads is not a wg(8) key; a setconf leaves it alone)."""
        work = self.topo.workdir
        own = os.path.join(work, f"hs-{label.replace(' ', '-')}.wgd.conf")
        with open(own, "w") as f:
            f.write(f"[Interface]\nPrivateKey = {private_key}\nListenPort = {self.PORTS[label]}"
                    f"\nThreads = {threads}\n")
        conf = os.path.join(work, f"hs-{label.replace(' ', '-')}.conf")
        write_peer_config(conf, private_key, self.PORTS[label], pubs)
        d = Daemon(self.topo, "wgd", self.binaries["wgd"], self.topo.ns_b,
                   self.topo.ifname(f"bht{threads}"))
        try:
            d.start(own)
            d.link_up()
        except BenchError:
            d.stop()
            raise
        self.responders[label] = (d, conf)

    def run(self, impl, duration, warmup):
        """Fresh peers (so replay state restarts), then hsload against the responder."""
        d, conf = self.responders[impl]
        d.setconf(conf)
        ticks0 = d.cpu_ticks()
        res = run([self.hsload, "run", "--keys", self.keys, "--pool", self.pool,
                   "--to", OUTER_B, "--to-port", self.PORTS[impl], "--src-net", HS_SRC_NET,
                   "--sources", self.NSOURCES, "--duration", duration, "--warmup", warmup],
                  duration + warmup + 30, ns=self.topo.ns_a, check=False)
        ticks1 = d.cpu_ticks()
        try:
            out = json.loads(res.stdout)
        except ValueError:
            raise BenchError(f"{impl} hs: hsload exited with {res.returncode}: "
                             + res.stderr.strip()[-200:]) from None
        if res.returncode or not out["window_responses"] or not out["verified"]:
            raise BenchError(f"{impl} hs: no verified handshake ({res.stderr.strip()[-200:]} "
                             f"{res.stdout.strip()})")
        if out["verify_failed"]:
            raise BenchError(f"{impl} hs: {out['verify_failed']} responses did not verify")
        out["responder_cpu_s"] = (ticks1 - ticks0) / CLK_TCK
        return out

    def stop(self):
        for d, _ in self.responders.values():
            d.stop()


def peers_sample(topo, impl, binary, conf):
    """A fresh daemon: VmRSS before and after `wg setconf` of conf, and its duration."""
    d = Daemon(topo, impl, binary, topo.ns_b, topo.ifname("bp" + SHORT[impl]))
    try:
        d.start()
        d.link_up()
        time.sleep(0.2)
        rss0 = d.rss_kb()
        secs = d.setconf(conf)
        time.sleep(0.2)
        rss1 = d.rss_kb()
        if not rss1:
            raise BenchError(f"{impl} peers: the daemon is gone after setconf")
    finally:
        d.stop()
    return {"setconf_ms": secs * 1000, "rss_kb": rss1, "rss_empty_kb": rss0}
