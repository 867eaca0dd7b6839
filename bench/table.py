#!/usr/bin/env python3
"""Prints the benchmark table from the values run.sh recorded.

Usage: table.py WORKDIR
WORKDIR holds results.tsv (metric, registry, value), meta.tsv (key, value)
and problems.txt (one problem a line), all written by run.sh.

Rows for Berth with authentication (Basic, Bearer) have no distribution
measurement of their own (distribution runs without authentication): their
distribution column shows distribution's unauthenticated number, so the ratio
is authenticated Berth against unauthenticated distribution, and the column
berth/anon compares them with Berth's own anonymous number.
"""

import os
import sys

REGS = ("distribution", "berth")


def read_tsv(path, cols):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == cols:
                    rows.append(parts)
    return rows


def rows_spec(meta):
    size = meta.get("size_label", "?")
    layers = meta.get("layers", "?")
    conns = meta.get("connections", "?")
    dur = meta.get("duration", "?")
    mode = meta.get("upload_mode", "?")
    return [
        ("Registry process", None, None, None),
        ("idle_rss_mib", "idle RSS right after start", "MiB", "lower"),
        ("peak_rss_mib", "peak RSS over the run (VmHWM)", "MiB", "lower"),
        (f"{size} single-layer image, skopeo", None, None, None),
        ("big_push_s", "push time", "s", "lower"),
        ("big_push_mbps", "push throughput", "MB/s", "higher"),
        ("big_pull_s", "pull time", "s", "lower"),
        ("big_pull_mbps", "pull throughput", "MB/s", "higher"),
        (f"{size} blob, one curl request ({mode} upload)", None, None, None),
        ("blob_put_mbps", "upload throughput", "MB/s", "higher"),
        ("blob_get_mbps", "GET throughput", "MB/s", "higher"),
        (f"{layers}-layer image, skopeo", None, None, None),
        ("many_push_s", "push time", "s", "lower"),
        ("many_pull_s", "pull time", "s", "lower"),
        (f"wrk, {conns} connections, {dur} (berth anonymous: public library project)", None, None, None),
        *wrk_rows("manifest", "manifest GET by tag"),
        *wrk_rows("blob16k", "16 KiB blob GET"),
        ("CPU seconds used by the registry (utime+stime)", None, None, None),
        ("cpu_big", f"{size} image push+pull", "s", "lower"),
        ("cpu_blob", f"{size} blob upload+GET", "s", "lower"),
        ("cpu_many", f"{layers}-layer push+pull", "s", "lower"),
        ("cpu_manifest", "wrk manifest GET, anonymous", "s", "lower"),
        ("cpu_manifest_basic", "wrk manifest GET, berth Basic", "s", "lower", "cpu_manifest"),
        ("cpu_manifest_bearer", "wrk manifest GET, berth Bearer", "s", "lower", "cpu_manifest"),
        ("cpu_blob16k", "wrk 16 KiB blob GET, anonymous", "s", "lower"),
        ("cpu_blob16k_basic", "wrk 16 KiB blob GET, berth Basic", "s", "lower", "cpu_blob16k"),
        ("cpu_blob16k_bearer", "wrk 16 KiB blob GET, berth Bearer", "s", "lower", "cpu_blob16k"),
        ("cpu_total", "whole run, same work as distribution", "s", "lower"),
        ("cpu_total_all", "whole run, with berth's Basic/Bearer wrk runs", "s", "lower", "cpu_total"),
    ]


AUTH_KINDS = (("basic", "berth Basic auth"), ("bearer", "berth Bearer token"))


def wrk_rows(m, what):
    """Rows for one wrk target: anonymous, then Berth with Basic and Bearer.

    The authenticated rows compare with distribution's anonymous number
    (the fifth element names the metric used for the distribution column
    and for berth/anon).
    """
    rows = []
    for suffix, unit, better, label in (
        ("rps", "req/s", "higher", what),
        ("p99_ms", "ms", "lower", f"{what} p99 latency"),
        ("cpu_us", "µs", "lower", f"{what} CPU per request"),
    ):
        rows.append((f"{m}_{suffix}", f"{label}, anonymous", unit, better))
        for kind, kind_label in AUTH_KINDS:
            rows.append((f"{m}_{kind}_{suffix}", f"{label}, {kind_label}", unit, better, f"{m}_{suffix}"))
    return rows


def fmt(v):
    if v is None:
        return "-"
    try:
        x = float(v)
    except ValueError:
        return v
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def ratio(d, b):
    try:
        d, b = float(d), float(b)
    except (TypeError, ValueError):
        return "-"
    if d == 0:
        return "-"
    return f"{b / d:.2f}x"


def main():
    work = sys.argv[1]
    meta = dict(read_tsv(os.path.join(work, "meta.tsv"), 2))
    values = {}
    for metric, reg, value in read_tsv(os.path.join(work, "results.tsv"), 3):
        values[(metric, reg)] = value

    spec = rows_spec(meta)
    header = ("metric", "unit", "distribution", "berth", "berth/dist", "berth/anon", "better")
    table = []
    for key, label, unit, better, *ref in spec:
        if label is None:
            table.append(("section", key))
            continue
        ref_key = ref[0] if ref else None
        b = values.get((key, "berth"))
        if ref_key:
            # distribution has no authentication: compare with its anonymous number
            d = values.get((ref_key, "distribution"))
            vs_anon = ratio(values.get((ref_key, "berth")), b)
            if b is None and d is None:
                continue
        else:
            d = values.get((key, "distribution"))
            vs_anon = ""
        table.append(("row", ("  " + label, unit, fmt(d), fmt(b), ratio(d, b), vs_anon, better)))

    widths = [len(h) for h in header]
    for kind, row in table:
        if kind == "row":
            widths = [max(w, len(c)) for w, c in zip(widths, row)]
    aligns = ["<", "<", ">", ">", ">", ">", "<"]

    def line(cells):
        return " | ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths)).rstrip()

    out = []
    out.append(f"Berth vs CNCF distribution — {meta.get('date', '')}")
    for k in ("machine", "distribution_version", "berth_version", "berth_settings", "auth_note", "sizes", "upload_note"):
        if meta.get(k):
            out.append(f"  {k.replace('_', ' ')}: {meta[k]}")
    out.append("")
    out.append(line(header))
    out.append("-+-".join("-" * w for w in widths))
    for kind, row in table:
        if kind == "section":
            out.append(row)
        else:
            out.append(line(row))
    out.append("")
    out.append("ratio = berth / distribution; 'better' says which direction is better for that metric.")
    out.append("Rows marked 'berth Basic auth' / 'berth Bearer token' send credentials to Berth on every request;")
    out.append("distribution has no authentication, so their distribution column repeats its anonymous number,")
    out.append("and berth/anon is the authenticated Berth number divided by Berth's anonymous one.")

    notes = []
    for reg in REGS:
        for key in ("manifest", "manifest_basic", "manifest_bearer", "blob16k", "blob16k_basic", "blob16k_bearer"):
            errs = values.get((f"{key}_errors", reg))
            if errs and errs not in ("0", "0/0"):
                notes.append(f"{reg}: wrk {key} errors (socket errors/HTTP status >= 400): {errs}")
    probs_path = os.path.join(work, "problems.txt")
    if os.path.exists(probs_path):
        with open(probs_path) as f:
            notes.extend(l.rstrip("\n") for l in f if l.strip())
    if notes:
        out.append("")
        out.append("Problems seen during the run:")
        out.extend("  - " + n for n in notes)
    print("\n".join(out))


if __name__ == "__main__":
    main()
