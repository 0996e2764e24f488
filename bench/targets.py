# SPDX-License-Identifier: MIT
"""Issue 11's targets, each with the value this run measured and "met" / "not met"; a target
whose inputs were not measured in this run (another BENCH_ONLY, a daemon without `Threads`)
says so instead. The regression targets compare with the results file that was in
bench/results/ when the run started (its date and commit are named)."""
import json

LIMIT_REGRESSION = 1.10  # within 10 % of the baseline


def load_baseline(path):
    """{metric: wgd median} and a description of the baseline file, or ({}, why not)."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return {}, f"no baseline ({path}: {e.__class__.__name__})"
    vals = {}
    for key, m in doc.get("metrics", {}).items():
        s = m.get("values", {}).get("wgd")
        if s and s.get("median") is not None:
            vals[key] = s["median"]
    meta = doc.get("meta", {})
    return vals, f"{path} of {meta.get('date', '?')}, {meta.get('wgd', '?')}"


def _median(summary, key, target):
    s = summary.get(key, {}).get("values", {}).get(target)
    return s["median"] if s else None


def _row(name, value, goal, ok):
    if value is None:
        return [name, "not measured in this run", goal, "n/a"]
    return [name, value, goal, "met" if ok else "not met"]


def _ratio_row(name, a, b, goal, limit, lower=False):
    if a is None or b is None:
        return _row(name, None, goal, False)
    if not b:  # e.g. no RFC 2544 trial of the reference passed: no ratio to judge
        return [name, f"{a:.4g} / 0", goal, "n/a"]
    r = a / b
    return _row(name, f"{r:.2f}× ({a:.4g} / {b:.4g})", goal, r <= limit if lower else r >= limit)


def rows(summary, gw_median, x25519, baseline):
    """The table's rows: [target, measured, goal, verdict]."""
    out = []
    tcp = lambda t: _median(summary, "tcp1", t)  # noqa: E731
    out.append(_ratio_row("TCP 1 stream, wgd / wireguard-go", tcp("wgd"), tcp("wireguard-go"),
                          "≥ 10×", 10))
    out.append(_ratio_row("TCP 1 stream, wgd / raw veth", tcp("wgd"), tcp("veth"), "≥ 0.35×",
                          0.35))
    out.append(_ratio_row("CPU-s/GB, wgd / wireguard-go", _median(summary, "cpu", "wgd"),
                          _median(summary, "cpu", "wireguard-go"), "≤ 0.1×", 0.1, lower=True))
    out.append(_ratio_row("one-sided decrypt 1420 B pkt/s, wgd T2 / T1",
                          gw_median("decrypt", "1420", "wgd T2"),
                          gw_median("decrypt", "1420", "wgd T1"), "≥ 1.8×", 1.8))
    best = next((lb for lb in ("wgd T2", "wgd", "wgd T1")
                 if gw_median("decrypt", "64", lb) is not None), "wgd")
    out.append(_ratio_row(f"one-sided decrypt 64 B pkt/s, {best} / wireguard-go",
                          gw_median("decrypt", "64", best),
                          gw_median("decrypt", "64", "wireguard-go"), "≥ 10×", 10))
    for size in (1392, 64):
        key = f"rfc_{size}"
        out.append(_ratio_row(f"RFC 2544 UDP {size} B, wgd / wireguard-go",
                              _median(summary, key, "wgd"), _median(summary, key, "wireguard-go"),
                              "≥ 5×", 5))
    out.append(_ratio_row("handshakes/s, wgd T2 / T1", _median(summary, "hs_t", "wgd T2"),
                          _median(summary, "hs_t", "wgd T1"), "≥ 1.7×", 1.7))
    hs = _median(summary, "hs", "wgd")
    out.append(_ratio_row("handshakes/s, wgd / all-core X25519 bound", hs,
                          x25519["hs_bound_all_cores"] if x25519 else None, "≥ 0.8×", 0.8))
    for key, name in (("rtt_avg", "ping RTT avg"), ("rss_10000", "RSS, 10 000 peers"),
                      ("setconf_10000", "`wg setconf` 10 000 peers")):
        out.append(_ratio_row(f"{name}, wgd / baseline", _median(summary, key, "wgd"),
                              baseline.get(key), "≤ 1.10×", LIMIT_REGRESSION, lower=True))
    return out


def markdown(summary, gw_median, x25519, baseline, baseline_desc):
    table = rows(summary, gw_median, x25519, baseline)
    met = sum(r[3] == "met" for r in table)
    judged = sum(r[3] != "n/a" for r in table)
    lines = ["## Targets (issue 11)", "",
             f"{met} of {judged} measured targets met; baseline for the regression rows: "
             f"{baseline_desc}. Ratios are wgd's median over the other's.", "",
             "| target | measured | goal | verdict |", "|---|--:|:-:|:-:|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in table]
    return lines + [""], table
