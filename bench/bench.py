# SPDX-License-Identifier: MIT
"""wgd benchmark: wgd<->wgd against wireguard-go<->wireguard-go and the raw veth, on one
two-namespace topology, in one run. Started by bench.sh, which checks the tools first.

Environment:
  BENCH_DURATION  seconds per transfer (default 10; 1 in smoke mode)
  BENCH_RUNS      samples per measurement (default 3; 1 in smoke mode)
  BENCH_SMOKE=1   one short run of every measurement path, no 10 000-peer case
  BENCH_ONLY      comma list of tcp1,tcp4,udp,cpu,rtt,hs,peers,gw,rfc2544 (default: all)
  BENCH_GW_DURATION  seconds per one-sided gateway cell (default 2; 0.2 in smoke mode)
  BENCH_RFC_TRIAL    seconds per RFC 2544 trial (default 2; 0.2 in smoke mode)
  BENCH_OUT       results directory (default bench/results; build/bench-smoke for smoke)
  BENCH_TIMEOUT   overall limit in seconds (default 3600; 300 in smoke mode)
  BENCH_KEEP=1    keep the work directory (daemon logs, configs) for debugging
  WGD, WIREGUARD_GO, HSLOAD, GWLOAD  the binaries (default wgd/wgd, wireguard-go,
                  build/tests/tools/hsload, build/tests/tools/gwload)
"""
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
import rfc2544  # noqa: E402
import targets  # noqa: E402
from topo import (INNER, OUTER_A, OUTER_B, PORTS, SHORT, BenchError, Daemon,  # noqa: E402
                  Topology, ping_ok, run)

ALL_TESTS = ("tcp1", "tcp4", "udp", "cpu", "rtt", "hs", "peers", "gw", "rfc2544")
PAIR_TESTS = {"tcp1", "tcp4", "udp", "cpu", "rtt", "rfc2544"}
IMPLS = ("wgd", "wireguard-go")
PEERS_PORT = 51840
PEERS_ALLOWED_BASE = (198 << 24) | (19 << 16) | (128 << 8)  # 198.19.128.0 + i, one /32 each
HS_WINDOW_NOTE = ("hsload keeps at most 128 initiations in flight (a closed loop, so the "
                  "responder's socket never overflows), sends from 2 048 source addresses at "
                  "most 20/s each (the responders' per-address limit under load) and counts "
                  "a handshake when the response arrives with a valid mac1; the first 64 "
                  "responses of each run are fully consumed with "
                  "`noise_handshake_consume_response`. Initiations from 1 024 static keys "
                  "are built before the timed window, so hsload's own X25519 work does not "
                  "compete with the responder; each run starts from a `wg setconf` that "
                  "re-adds the 1 024 peers. wgd is under load from 128 handshake messages in a "
                  "second or 128 queued, wireguard-go only from its queue (128 waiting), "
                  "so in this closed loop wgd checks mac2 and its per-address limit and "
                  "wireguard-go does not; both are cheap next to the X25519 work. The responder's CPU time per handshake is its "
                  "utime+stime over the whole hsload run divided by the responses it sent, which "
                  "is less sensitive than the rate to other load on the machine.")


class Abort(BaseException):
    """A signal or the overall timeout: stop measuring, clean up, exit nonzero."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def env_float(name, default, lo, hi):
    val = os.environ.get(name, "")
    if not val:
        return default
    try:
        num = float(val)
    except ValueError:
        num = None
    if num is None or not lo <= num <= hi:
        raise BenchError(f"{name}={val}: want a number of seconds in [{lo}, {hi}]")
    return num


def env_int(name, default, lo, hi):
    val = os.environ.get(name, "")
    if not val:
        return default
    if not val.isdigit() or not lo <= int(val) <= hi:
        raise BenchError(f"{name}={val}: want an integer in [{lo}, {hi}]")
    return int(val)


class Config:
    def __init__(self, root):
        self.smoke = os.environ.get("BENCH_SMOKE", "") == "1"
        self.duration = env_int("BENCH_DURATION", 1 if self.smoke else 10, 1, 600)
        self.runs = 1 if self.smoke else env_int("BENCH_RUNS", 3, 1, 100)
        self.timeout = env_int("BENCH_TIMEOUT", 300 if self.smoke else 3600, 10, 86400)
        only = [x.strip() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()]
        bad = [x for x in only if x not in ALL_TESTS]
        if bad:
            raise BenchError(f"BENCH_ONLY: unknown {','.join(bad)}; known: {','.join(ALL_TESTS)}")
        self.tests = set(only or ALL_TESTS)
        default_out = "build/bench-smoke" if self.smoke else "bench/results"
        self.out = os.path.join(root, os.environ.get("BENCH_OUT") or default_out)
        self.binaries = {"wgd": os.environ.get("WGD") or os.path.join(root, "wgd/wgd"),
                         "wireguard-go": os.environ.get("WIREGUARD_GO") or "wireguard-go"}
        self.hsload = os.environ.get("HSLOAD") or os.path.join(root, "build/tests/tools/hsload")
        self.gwload = os.environ.get("GWLOAD") or os.path.join(root, "build/tests/tools/gwload")
        self.gw_duration = env_float("BENCH_GW_DURATION", 0.2 if self.smoke else 2, 0.05, 60)
        self.gw_pool_mb = 16 if self.smoke else 256
        # Smoke: every code path of gwload (UDP and TCP packets, each direction), not every size.
        self.gw_sizes = ("64", "tso") if self.smoke else gateway.SIZES
        self.rfc_trial = env_float("BENCH_RFC_TRIAL", 0.2 if self.smoke else 2, 0.1, 60)
        self.rfc_steps = 1 if self.smoke else 7
        # The regression targets compare with the results committed before this run.
        self.baseline, self.baseline_desc = targets.load_baseline(
            os.path.join(root, "bench/results/results.json"))
        self.keep = os.environ.get("BENCH_KEEP", "") == "1"
        self.peer_counts = (1000,) if self.smoke else (1000, 10000)
        self.hs_warmup = 0.3 if self.smoke else 1.0
        self.x25519_s = 0.4 if self.smoke else 2.0

    def attempted(self):
        """The metrics the selected tests produce."""
        m = set()
        for t in self.tests:
            m |= {"udp": {"udp", "udp_loss"}, "rtt": {"rtt_avg", "rtt_mdev"},
                  "hs": {"hs", "hs_cpu"}, "gw": set(),
                  "rfc2544": {f"rfc_{n}{b}" for n in rfc2544.SIZES for b in ("", "_b0")},
                  "peers": {"rss_0"} | {f"{k}_{n}" for n in self.peer_counts
                                        for k in ("rss", "setconf")}}.get(t, {t})
        return m


def first_line(args):
    try:
        out = run(args, 10, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (BenchError, IndexError):
        return f"{args[0]} (unknown version)"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def source_revision():
    """" (commit abc1234[, modified])" for the tree the bench runs from, or ""."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no",
                                "--", "wgd", "crypto", "netlink"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" (commit {rev}{', modified' if dirty else ''})" if rev else ""


def machine_meta(cfg):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "wgd": first_line([cfg.binaries["wgd"], "--version"]) + source_revision(),
            "wireguard_go": first_line([cfg.binaries["wireguard-go"], "--version"]),
            "iperf3": first_line(["iperf3", "--version"]),
            "duration": cfg.duration, "runs": cfg.runs, "smoke": cfg.smoke,
            "tests": sorted(cfg.tests)}


def genkey():
    priv = run(["wg", "genkey"], 10).stdout.strip()
    return priv, run(["wg", "pubkey"], 10, input=priv + "\n").stdout.strip()


class Bench:
    def __init__(self, cfg, topo):
        self.cfg, self.topo = cfg, topo
        self.samples, self.raw, self.errors = {}, [], []
        self.x25519, self.t0 = None, time.monotonic()
        self.gw_unsupported, self.gw_missing = {}, []
        self.hs_unsupported = None
        self.load_start = loadavg()

    def add(self, metric, target, value):
        self.samples.setdefault(metric, {}).setdefault(target, []).append(value)

    def take(self, what, target, rep, fn):
        """One sample: logged, kept raw, or recorded as a failure (the run goes on)."""
        log(f"[{time.monotonic() - self.t0:6.1f} s] run {rep + 1}/{self.cfg.runs}: "
            f"{what} {target}")
        try:
            res = fn()
        except BenchError as e:
            log(f"    FAILED: {e}")
            self.errors.append(f"{what} {target} run {rep + 1}: {e}")
            self.raw.append({"test": what, "target": target, "run": rep + 1, "error": str(e)})
            return None
        self.raw.append({"test": what, "target": target, "run": rep + 1, "result": res})
        return res

    # ---- the tunnels ----

    def tunnel_pair(self, impl):
        """Two daemons of impl, one per namespace, configured identically through wg(8)."""
        topo, work = self.topo, self.topo.workdir
        (ka, pa), (kb, pb) = genkey(), genkey()
        port = PORTS[impl]
        daemons = []
        for side, ns, key, peer_pub, peer_outer, inner, peer_inner in (
                ("a", topo.ns_a, ka, pb, OUTER_B, INNER[impl][0], INNER[impl][1]),
                ("b", topo.ns_b, kb, pa, OUTER_A, INNER[impl][1], INNER[impl][0])):
            conf = os.path.join(work, f"{impl}-{side}.conf")
            with open(conf, "w") as f:
                f.write(f"[Interface]\nPrivateKey = {key}\nListenPort = {port}\n\n[Peer]\n"
                        f"PublicKey = {peer_pub}\nEndpoint = {peer_outer}:{port}\n"
                        f"AllowedIPs = {peer_inner}/32\n")
            d = Daemon(topo, impl, self.cfg.binaries[impl], ns,
                       topo.ifname(f"b{SHORT[impl]}{side}")).start()
            d.setconf(conf, timeout=30)
            d.link_up(inner)
            daemons.append(d)
        if not ping_ok(topo.ns_a, INNER[impl][1], tries=10):
            raise BenchError(f"{impl}: the tunnel does not pass traffic (no ping reply from "
                             f"{INNER[impl][1]} within 10 tries)")
        return measure.Target(impl, INNER[impl][1], daemons)

    def traffic(self):
        sel, cfg = self.cfg.tests, self.cfg
        targets = {impl: self.tunnel_pair(impl) for impl in IMPLS}
        targets["veth"] = measure.Target("veth", OUTER_B)
        for rep in range(cfg.runs):
            for mode in ("tcp1", "tcp4", "udp"):
                if mode not in sel and not (mode == "tcp1" and "cpu" in sel):
                    continue
                for name, target in targets.items():
                    if mode == "tcp1" and "tcp1" not in sel and not target.daemons:
                        continue  # only the CPU figure wanted: no daemon on the veth
                    res = self.take(mode, name, rep, lambda t=target, m=mode:
                                    measure.iperf(self.topo, t, m, cfg.duration))
                    if res:
                        self.record_iperf(mode, name, res)
            if "rtt" in sel:
                count = 10 if cfg.smoke else 10 * cfg.duration
                interval = 0.02 if cfg.smoke else 0.1
                for name, target in targets.items():
                    res = self.take("rtt", name, rep, lambda t=target:
                                    measure.rtt(self.topo, t, count, interval))
                    if res:
                        self.add("rtt_avg", name, res["avg_ms"])
                        self.add("rtt_mdev", name, res["mdev_ms"])
                        log(f"    avg {res['avg_ms']:.3f} ms, mdev {res['mdev_ms']:.3f} ms")
            if "rfc2544" in sel:
                self.rfc2544(targets, rep)

    def rfc2544(self, paths, rep):
        cfg = self.cfg
        for size in rfc2544.SIZES:
            for name, target in paths.items():
                res = self.take(f"rfc2544-{size}", name, rep, lambda t=target, z=size:
                                rfc2544.search(self.topo, t, z, cfg.rfc_trial, cfg.rfc_steps,
                                               log))
                if res:
                    self.add(f"rfc_{size}", name, res["throughput_mbps"])
                    self.add(f"rfc_{size}_b0", name, res["b0_mbps"])
                    log(f"    RFC 2544 {res['throughput_mbps']:.1f} Mbit/s "
                        f"({res['throughput_pps']:.0f} pkt/s), -b 0: {res['b0_mbps']:.1f} "
                        f"Mbit/s at {res['b0_loss_pct']:.2f} % loss")

    def record_iperf(self, mode, name, res):
        if mode in self.cfg.tests:
            self.add(mode, name, res["mbps"])
        if mode == "udp":
            self.add("udp_loss", name, res.get("loss_pct"))
        if mode == "tcp1" and "cpu" in self.cfg.tests and "cpu_s_per_gb" in res:
            self.add("cpu", name, res["cpu_s_per_gb"])
        log(f"    {res['mbps']:.0f} Mbit/s" + (f", loss {res['loss_pct']:.2f} %"
                                                  if "loss_pct" in res else "")
            + (f", {res['cpu_s_per_gb']:.2f} CPU-s/GB" if res.get("cpu_s_per_gb") else ""))

    # ---- one daemon, one generator ----

    def gateway(self):
        cfg = self.cfg
        gw = gateway.GatewayBench(self.topo, cfg.binaries, cfg.gwload, cfg.gw_duration,
                                  cfg.gw_pool_mb, genkey)
        try:
            configs = gw.configs()  # without `Threads`, the daemon's default stands in
        except BenchError as e:
            log(f"    FAILED: gw setup: {e}")
            self.errors.append(f"gw setup: {e}")
            self.gw_missing.append("setup")
            return
        self.gw_unsupported = gw.unsupported
        for rep in range(cfg.runs):
            for label, impl, threads in configs:
                res = self.take("gw", label, rep, lambda lb=label, i=impl, t=threads:
                                gw.run(lb, i, t, sizes=cfg.gw_sizes))
                if not res:
                    self.gw_missing.append(label)
                    continue
                for r in res:
                    d, size = r["direction"], r["size"]
                    self.add(gateway.metric(d, size, "pps"), label, r["pps"])
                    self.add(gateway.metric(d, size, "gbps"), label, r["gbps"])
                    log(f"    {d:7} {size:>4}: {r['pps']:10.0f} pkt/s {r['gbps']:7.3f} Gbit/s"
                        f" (offered {r['offered_pps']:.0f}/s)")

    def gw_median(self, direction, size, label):
        s = report.summarize(self.samples.get(gateway.metric(direction, size, "pps"), {})
                             .get(label, []))
        return s["median"] if s else None

    # ---- handshakes ----

    def handshakes(self):
        cfg = self.cfg
        self.x25519 = self.take("x25519", "machine", 0,
                                lambda: measure.x25519(cfg.hsload, cfg.x25519_s))
        bound = self.x25519["hs_bound_all_cores"] if self.x25519 else 12000
        # Enough initiations for the fastest plausible responder over warm-up + window.
        pool = 6000 if cfg.smoke else int(bound * 1.2 * (cfg.duration + cfg.hs_warmup))
        hsb = measure.HandshakeBench(self.topo, cfg.binaries, cfg.hsload, pool)
        try:
            log(f"[{time.monotonic() - self.t0:6.1f} s] hs: building {pool} initiations")
            hsb.setup(IMPLS, *genkey())
            self.hs_unsupported = hsb.unsupported
            for rep in range(cfg.runs):
                for impl in [i for i in hsb.responders if i in IMPLS or i in hsb.THREADS]:
                    res = self.take("hs", impl, rep, lambda i=impl:
                                    hsb.run(i, cfg.duration, cfg.hs_warmup))
                    if res and impl in hsb.THREADS:
                        self.add("hs_t", impl, res["hs_per_s"])  # the targets table's
                    elif res:
                        self.add("hs", impl, res["hs_per_s"])
                        self.add("hs_cpu", impl,
                                 res["responder_cpu_s"] / res["responses"] * 1e6)
                    if res:
                        log(f"    {res['hs_per_s']:.0f} handshakes/s ({res['verified']} verified"
                            f", {res['cookie_replies']} cookie replies, {res['timeouts']} "
                            f"timeouts{', pool exhausted' if res['pool_exhausted'] else ''})")
        except BenchError as e:
            log(f"    FAILED: hs setup: {e}")
            self.errors.append(f"hs setup: {e}")
        finally:
            hsb.stop()

    # ---- peers ----

    def peers(self):
        cfg, work = self.cfg, self.topo.workdir
        top = max(cfg.peer_counts)
        pubs = [line.split()[1] for line in
                run([cfg.hsload, "keygen", top], 60).stdout.splitlines()]
        priv, _ = genkey()
        confs = {}
        for n in cfg.peer_counts:
            confs[n] = os.path.join(work, f"peers-{n}.conf")
            measure.write_peer_config(confs[n], priv, PEERS_PORT, pubs[:n], PEERS_ALLOWED_BASE)
        for rep in range(cfg.runs):
            for n in cfg.peer_counts:
                for impl in IMPLS:
                    res = self.take(f"peers-{n}", impl, rep, lambda i=impl, c=confs[n]:
                                    measure.peers_sample(self.topo, i, cfg.binaries[i], c))
                    if res:
                        self.add(f"rss_{n}", impl, res["rss_kb"] / 1024)
                        self.add(f"setconf_{n}", impl, res["setconf_ms"])
                        self.add("rss_0", impl, res["rss_empty_kb"] / 1024)
                        log(f"    setconf {res['setconf_ms']:.0f} ms, RSS "
                            f"{res['rss_empty_kb'] / 1024:.1f} -> {res['rss_kb'] / 1024:.1f} MiB")

    # ---- all of it ----

    def run_all(self):
        sel = self.cfg.tests
        self.topo.up()
        if sel & PAIR_TESTS:
            self.traffic()
        if "gw" in sel:
            self.gateway()
        if "hs" in sel:
            self.handshakes()
        if "peers" in sel:
            self.peers()
        return self.write()

    def hs_details(self):
        if "hs" not in self.cfg.tests:
            return ""
        parts = []
        for impl in IMPLS:
            runs = [r["result"] for r in self.raw
                    if r["test"] == "hs" and r["target"] == impl and "result" in r]
            if runs:
                parts.append(f"{impl}: {sum(r['verified'] for r in runs)} verified, "
                             f"{sum(r['cookie_replies'] for r in runs)} cookie replies, "
                             f"{sum(r['timeouts'] for r in runs)} timeouts"
                             + (", pool exhausted" if any(r["pool_exhausted"] for r in runs)
                                else "") + " over all runs"
                             + (" (no cookie reply: it never considered itself under load)"
                                if not any(r["cookie_replies"] for r in runs) else ""))
        return "**Handshakes.** " + HS_WINDOW_NOTE + (" " + "; ".join(parts) + "." if parts else "")

    def notes(self):
        notes = ["**Setup.** Two network namespaces joined by a veth pair (MTU 1500); in "
                 "each, one daemon with a TUN (MTU 1420); iperf3's server in one, its client "
                 "in the other; nothing is pinned, so both daemons and iperf3 share the "
                 f"machine's {os.cpu_count()} cores. wgd and wireguard-go are configured "
                 "identically with `wg setconf` and measured in the same run, interleaved run "
                 "by run. TCP: `iperf3 -t D [-P 4]`; UDP: `iperf3 -u -b 0 -l 1392` (received "
                 "rate and loss at the server). CPU: utime+stime from /proc/PID/stat of both "
                 "daemons' processes during the single-stream TCP transfer, divided by the "
                 "bytes received. RSS: VmRSS summed over a daemon's processes (wgd runs a "
                 "supervisor and a worker) right after `wg setconf` of N peers, each with one "
                 "/32, into a freshly started daemon; the setconf time is the wall time of "
                 "the `wg` command."]
        if self.errors:
            notes += ["", "**Failed samples.**", ""] + [f"- {e}" for e in self.errors]
        return notes

    def write(self):
        cfg = self.cfg
        meta = machine_meta(cfg)
        meta["wall_s"] = round(time.monotonic() - self.t0, 1)
        meta["load_start"], meta["load_end"] = self.load_start, loadavg()
        summary = report.build_summary(self.samples, cfg.attempted())
        os.makedirs(cfg.out, exist_ok=True)
        gw_lines = gateway.markdown(report.summarize, {k: v for k, v in self.samples.items()
                                                       if k.startswith("gw_")},
                                    self.gw_unsupported, cfg.gw_duration) \
            if "gw" in cfg.tests else []
        tsum = dict(summary)  # plus handshakes with Threads = 1 and 2, for the targets
        tsum["hs_t"] = {"values": {lb: report.summarize(v)
                                   for lb, v in self.samples.get("hs_t", {}).items()}}
        if self.hs_unsupported:
            gw_lines += [f"Handshakes with `Threads = 1` and `2`: n/a ({self.hs_unsupported}).",
                         ""]
        tgt_lines, tgt_rows = targets.markdown(tsum, self.gw_median, self.x25519,
                                               cfg.baseline, cfg.baseline_desc)
        md = report.markdown(meta, summary, self.x25519, self.hs_details(), self.notes(),
                             sections=gw_lines + tgt_lines)
        extra = {"gateway": {k: {t: report.summarize(v) for t, v in per.items()}
                             for k, per in self.samples.items() if k.startswith("gw_")},
                 "gateway_unsupported": self.gw_unsupported,
                 "hs_threads": tsum["hs_t"]["values"],
                 "targets": [dict(zip(("target", "measured", "goal", "verdict"), r))
                             for r in tgt_rows]}
        files = {"results.md": md,
                 "results.json": report.to_json(meta, summary, self.x25519, self.raw, extra),
                 "chart.svg": report.svg_chart(meta, summary, self.x25519)}
        for name, text in files.items():
            with open(os.path.join(cfg.out, name), "w") as f:
                f.write(text)
        print(md)
        log(f"bench: wrote {', '.join(files)} to {cfg.out} after {meta['wall_s']} s")
        lost = report.missing(summary) + [("gw", lb) for lb in self.gw_missing]
        if lost:
            log("bench: no sample at all for " + ", ".join(f"{m}/{t}" for m, t in lost))
            return 1
        return 0


def on_signal(signum, frame):
    raise Abort(f"signal {signum}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    os.umask(0o077)
    try:
        cfg = Config(root)
    except BenchError as e:
        log(f"bench: {e}")
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, on_signal)
    signal.alarm(cfg.timeout)
    workdir = tempfile.mkdtemp(prefix="wgd-bench-")
    topo = Topology(os.getpid(), workdir, log)
    status = 1
    try:
        status = Bench(cfg, topo).run_all()
    except BenchError as e:
        log(f"bench: error: {e}")
    except Abort as e:
        log(f"bench: aborted ({e}{', overall timeout' if 'signal 14' in str(e) else ''})")
        status = 130
    finally:
        signal.alarm(0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        left = topo.cleanup()
        for what in left:
            log(f"bench: cleanup: {what}")
        if left and status == 0:
            status = 1
        if cfg.keep:
            log(f"bench: work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
