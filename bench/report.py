# SPDX-License-Identifier: MIT
"""Summaries of bench.py's samples: medians and ranges, the markdown table, the JSON
document and an SVG bar chart drawn with plain string formatting (no plotting library)."""
import json
import statistics
from xml.sax.saxutils import escape

TARGETS = ("wgd", "wireguard-go", "veth")
TARGET_LABELS = {"wgd": "wgd", "wireguard-go": "wireguard-go", "veth": "raw veth"}
COLORS = {"wgd": "#2b6cb0", "wireguard-go": "#dd6b20", "veth": "#8a8a8a"}

# key -> (label, short label for the chart, unit, better, targets that have it)
METRICS = {
    "tcp1": ("TCP, 1 stream", "TCP, 1 stream", "Mbit/s", "higher", TARGETS),
    "tcp4": ("TCP, 4 streams", "TCP, 4 streams", "Mbit/s", "higher", TARGETS),
    "udp": ("UDP 1392 B, -b 0: received", "UDP 1392 B received", "Mbit/s", "higher", TARGETS),
    "udp_loss": ("UDP 1392 B, -b 0: loss", "UDP 1392 B loss", "%", "lower", TARGETS),
    "rfc_1392": ("UDP 1392 B, RFC 2544 throughput (loss < 0.1 %)", "RFC 2544, 1392 B",
                 "Mbit/s", "higher", TARGETS),
    "rfc_1392_b0": ("UDP 1392 B, -b 0 -w 8M: received", "UDP 1392 B -b 0 -w 8M", "Mbit/s",
                    "higher", TARGETS),
    "rfc_64": ("UDP 64 B, RFC 2544 throughput (loss < 0.1 %)", "RFC 2544, 64 B", "Mbit/s",
               "higher", TARGETS),
    "rfc_64_b0": ("UDP 64 B, -b 0 -w 8M: received", "UDP 64 B -b 0 -w 8M", "Mbit/s", "higher",
                  TARGETS),
    "cpu": ("CPU per GB carried (both daemons, TCP 1 stream)", "CPU per GB, both ends",
            "CPU-s/GB", "lower", TARGETS[:2]),
    "rtt_avg": ("ping RTT, average", "ping RTT avg", "ms", "lower", TARGETS),
    "rtt_mdev": ("ping RTT, mdev", "ping RTT mdev", "ms", "lower", TARGETS),
    "hs": ("handshakes completed per second, one responder", "handshakes/s, 1 responder",
           "1/s", "higher", TARGETS[:2]),
    "hs_cpu": ("responder CPU time per handshake (utime+stime / responses)",
               "responder CPU per handshake", "µs", "lower", TARGETS[:2]),
    "rss_0": ("RSS, no peers", "RSS, no peers", "MiB", "lower", TARGETS[:2]),
    "rss_1000": ("RSS, 1 000 peers", "RSS, 1 000 peers", "MiB", "lower", TARGETS[:2]),
    "rss_10000": ("RSS, 10 000 peers", "RSS, 10 000 peers", "MiB", "lower", TARGETS[:2]),
    "setconf_1000": ("`wg setconf`, 1 000 peers", "wg setconf, 1 000 peers", "ms", "lower",
                     TARGETS[:2]),
    "setconf_10000": ("`wg setconf`, 10 000 peers", "wg setconf, 10 000 peers", "ms", "lower",
                      TARGETS[:2]),
}


def summarize(samples):
    """{runs, median, min, max} of a list of numbers; None when the list is empty."""
    vals = [v for v in samples if v is not None]
    if not vals:
        return None
    return {"runs": vals, "median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def fmt(v):
    if v is None:
        return "–"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}".replace(",", " ")
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell(s):
    if s is None:
        return "failed"
    if len(s["runs"]) == 1:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def ratio(a, b):
    if not a or not b or not b["median"]:
        return "–"
    return f"{a['median'] / b['median']:.2f}×"


def build_summary(samples, attempted):
    """samples[metric][target] -> list; only metrics that were attempted appear."""
    out = {}
    for key, (label, short, unit, better, targets) in METRICS.items():
        if key not in attempted:
            continue
        vals = {t: summarize(samples.get(key, {}).get(t, [])) for t in targets}
        out[key] = {"label": label, "short": short, "unit": unit, "better": better,
                    "values": vals}
    return out


def missing(summary):
    """(metric, target) pairs that were attempted but produced no sample at all."""
    return [(k, t) for k, m in summary.items() for t, s in m["values"].items() if s is None]


def markdown(meta, summary, x25519, hs_details, notes, sections=()):
    lines = ["# wgd benchmark", "",
             f"{meta['date']} on {meta['cpu']} ({meta['cores']} cores), Linux {meta['kernel']}; "
             f"{meta['wgd']}, {meta['wireguard_go']}, {meta['iperf3']}; "
             f"{meta['runs']} run(s) per measurement, {meta['duration']} s per transfer"
             + (" (smoke mode: numbers are not meaningful)" if meta["smoke"] else "")
             + f"; load average {meta['load_start']} before and {meta['load_end']} after "
             f"({fmt(meta['wall_s'])} s in all).",
             "", "Each cell is the median of the runs, with the range (min–max) in brackets. "
             "The ratios divide wgd's median by the other's: above 1 means wgd's number is "
             "larger, which is better for throughput and handshakes and worse for CPU, "
             "latency, memory and time.", ""]
    if summary:
        lines += ["| metric | unit | better | wgd | wireguard-go | raw veth "
                  "| wgd / wireguard-go | wgd / raw veth |", "|---|---|---|--:|--:|--:|--:|--:|"]
    for key, m in summary.items():
        v = m["values"]
        cells = [cell(v[t]) if t in v else "n/a" for t in TARGETS]
        lines.append(f"| {m['label']} | {m['unit']} | {m['better']} | " + " | ".join(cells)
                     + f" | {ratio(v.get('wgd'), v.get('wireguard-go'))} | "
                     + (ratio(v.get("wgd"), v.get("veth")) if "veth" in v else "n/a") + " |")
    if x25519:
        lines += ["", "**X25519 bound.** This machine does "
                  f"{fmt(x25519['variable_base_per_s'])} variable-base and "
                  f"{fmt(x25519['fixed_base_per_s'])} fixed-base `crypto_scalarmult` per second "
                  "on one core (libsodium, measured by `hsload x25519`). A responder computes "
                  "one variable-base X25519 to consume an initiation (es; ss is computed once "
                  "per peer and kept) and, for its response, one fixed-base (its ephemeral key) and two "
                  "variable-base (ee, se): 3 variable + 1 fixed. The bound printed is therefore "
                  f"1 / (3/variable + 1/fixed) = **{fmt(x25519['hs_bound_per_core'])} "
                  "handshakes/s per core**, "
                  f"{fmt(x25519['hs_bound_all_cores'])}/s on all {x25519['cores']} cores; "
                  "equivalently, the X25519 work alone takes "
                  f"{fmt(1e6 / x25519['hs_bound_per_core'])} µs of CPU per handshake. "
                  "It ignores hashing, AEAD and I/O, so no responder reaches it; a "
                  "single-threaded responder is capped by the one-core figure, and "
                  "wireguard-go uses Go's X25519, not libsodium's."]
    if hs_details:
        lines += ["", hs_details]
    if sections:
        lines += [""] + list(sections)
    while lines[-1] == "":  # one blank line between parts, however they end
        lines.pop()
    lines += [""] + notes + ["", "![chart](chart.svg)", ""]
    return "\n".join(lines)


def to_json(meta, summary, x25519, raw, extra=None):
    doc = {"meta": meta, "metrics": summary, "x25519": x25519, "samples": raw}
    doc.update(extra or {})
    return json.dumps(doc,
                      indent=2, sort_keys=False) + "\n"


# ---- SVG ----

PANEL_W, PANEL_H, COLS = 250, 195, 4
PLOT_TOP, PLOT_BOTTOM = 58, 165
BAR_W, CLIP_FACTOR = 46, 4


def scale_top(vals, bound):
    """The value at the top of the plot, and the targets too tall to share that scale.

    When one bar (the raw veth, in practice) is over CLIP_FACTOR times every other, it is
    drawn cut, so that the two daemons stay comparable; its number is still printed."""
    tops = {t: s["max"] for t, s in vals.items() if s}
    clipped = [t for t, v in tops.items() if len(tops) > 1 and
               all(vals[t]["median"] > CLIP_FACTOR * w for u, w in tops.items() if u != t)]
    rest = [v for t, v in tops.items() if t not in clipped] + ([bound] if bound else [])
    return max(rest + [1e-9]) * 1.12, clipped


def svg_bar(x, t, s, scale, is_clipped):
    cx = x + BAR_W / 2
    h = PLOT_BOTTOM - PLOT_TOP if is_clipped else s["median"] * scale
    out = [f'<rect x="{x:.1f}" y="{PLOT_BOTTOM - h:.1f}" width="{BAR_W}" height="{h:.1f}" '
           f'fill="{COLORS[t]}"/>']
    if is_clipped:
        # a white zig-zag says "axis broken here"
        y = PLOT_TOP + 18
        out.append(f'<path d="M{x - 2:.1f},{y + 4}l{BAR_W / 4 + 1:.1f},-6l{BAR_W / 4:.1f},6'
                   f'l{BAR_W / 4:.1f},-6l{BAR_W / 4 + 1:.1f},6" stroke="white" '
                   'stroke-width="3" fill="none"/>')
        top = PLOT_TOP
    else:
        top = PLOT_BOTTOM - s["max"] * scale
        if s["max"] > s["min"]:
            y2 = PLOT_BOTTOM - s["min"] * scale
            out.append(f'<path d="M{cx:.1f},{top:.1f}V{y2:.1f}M{cx - 6:.1f},{top:.1f}h12'
                       f'M{cx - 6:.1f},{y2:.1f}h12" stroke="#222" fill="none"/>')
    out.append(f'<text x="{cx:.1f}" y="{top - 4:.1f}" class="v">{escape(fmt(s["median"]))}'
               "</text>")
    return out


def svg_panel(x0, y0, m, bound, bound_label):
    """One metric: a bar per target (median), a whisker for the range, the value above."""
    targets = [t for t in TARGETS if t in m["values"]]
    vals = {t: m["values"][t] for t in targets}
    top, clipped = scale_top(vals, bound)
    scale = (PLOT_BOTTOM - PLOT_TOP) / top
    out = [f'<g transform="translate({x0},{y0})">',
           f'<rect width="{PANEL_W - 10}" height="{PANEL_H - 10}" fill="#fafafa" '
           'stroke="#ddd"/>',
           f'<text x="8" y="17" class="t">{escape(m["short"])}</text>',
           f'<text x="8" y="31" class="u">{escape(m["unit"])}, {m["better"]} is better</text>',
           f'<line x1="8" y1="{PLOT_BOTTOM}" x2="{PANEL_W - 18}" y2="{PLOT_BOTTOM}" '
           'stroke="#999"/>']
    if bound:
        y = PLOT_BOTTOM - bound * scale
        out += [f'<text x="8" y="43" class="u" style="fill:#c53030">dashed: {bound_label}, '
                f'{escape(fmt(bound))}</text>',
                f'<line x1="8" y1="{y:.1f}" x2="{PANEL_W - 18}" y2="{y:.1f}" '
                'stroke="#c53030" stroke-dasharray="4 3"/>']
    gap = (PANEL_W - 10 - len(targets) * BAR_W) / (len(targets) + 1)
    for i, t in enumerate(targets):
        x = gap + i * (BAR_W + gap)
        label = "wg-go" if t == "wireguard-go" else TARGET_LABELS[t]
        out.append(f'<text x="{x + BAR_W / 2:.1f}" y="{PLOT_BOTTOM + 14}" class="l">{label}'
                   "</text>")
        if vals[t]:
            out += svg_bar(x, t, vals[t], scale, t in clipped)
        else:
            out.append(f'<text x="{x + BAR_W / 2:.1f}" y="{PLOT_BOTTOM - 4}" class="l">failed'
                       "</text>")
    out.append("</g>")
    return out


def svg_chart(meta, summary, x25519):
    keys = list(summary)
    rows = (len(keys) + COLS - 1) // COLS
    width, height = COLS * PANEL_W + 10, rows * PANEL_H + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           "<style>.t{font-size:12px;font-weight:bold}.u{font-size:9px;fill:#555}"
           ".l{font-size:10px;text-anchor:middle}.v{font-size:10px;text-anchor:middle}</style>",
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">wgd vs wireguard-go vs raw '
           f'veth: medians of {meta["runs"]} run(s), whiskers min–max; a zig-zag cuts '
           'a bar too tall for the scale</text>',
           f'<text x="10" y="38" font-size="10" fill="#555">{escape(meta["cpu"])}, '
           f'{meta["cores"]} cores shared by both daemons and iperf3; {escape(meta["date"])}'
           + (" (smoke run)" if meta["smoke"] else "") + "</text>"]
    for i, key in enumerate(keys):
        bound, label = None, None
        if x25519 and key == "hs":
            bound, label = x25519["hs_bound_per_core"], "X25519 bound, 1 core"
        elif x25519 and key == "hs_cpu":
            bound, label = 1e6 / x25519["hs_bound_per_core"], "X25519 alone"
        out += svg_panel(10 + (i % COLS) * PANEL_W, 50 + (i // COLS) * PANEL_H,
                         summary[key], bound, label)
    out.append("</svg>")
    return "\n".join(out) + "\n"
