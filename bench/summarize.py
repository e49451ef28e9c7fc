#!/usr/bin/python3
# Copyright 2026 The libprusaconnect Authors.
"""Summarises run_core_benchmarks.sh results against the issue's targets.

    summarize.py results.jsonl [micro_bench.json]
"""

import json
import sys


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                d = json.loads(line)
                runs[d.get("run", d.get("tool"))] = d
    return runs


def mb(kb):
    return f"{kb / 1024:.1f} MB" if isinstance(kb, (int, float)) and kb >= 0 else "-"


def verdict(ok):
    if ok is None:
        return "n/a"
    return "PASS" if ok else "MISS"


def main():
    runs = load(sys.argv[1])
    m = runs.get("machine", {})
    print(f"machine: {m.get('nproc')} x {m.get('cpu')}, kernel {m.get('kernel')}, "
          f"{m.get('mem_total_kb', 0) / 1048576:.0f} GiB, build {m.get('build_type')}, "
          f"open files {m.get('open_files')}")

    def get(run, key, default=None):
        d = runs.get(run)
        if not d or d.get("skipped") or d.get("exit", 0) != 0:
            return default
        return d.get(key, default)

    ref_skipped = runs.get("ref_flood_1", {}).get("skipped", True)
    ref_note = " (reference SDK: skipped)" if ref_skipped else ""
    rows = []

    # 1. CPU per round-trip
    ours = get("flood_1", "cpu_per_roundtrip_ms")
    ref = get("ref_flood_1", "cpu_per_roundtrip_ms")
    rows.append(("CPU per telemetry round-trip (flood, 1 printer)", "<= 0.03 ms",
                 f"{ours:.4f} ms" if ours is not None else "-",
                 f"{ref:.4f} ms" if ref is not None else "-",
                 verdict(None if ours is None else ours <= 0.03)))
    bare = get("curl_roundtrip_flood", "cpu_per_roundtrip_ms")
    if bare is not None:
        rows.append(("  ... libcurl alone, same request (curl_roundtrip)", "floor",
                     f"{bare:.4f} ms", "-", "n/a"))
    iso = get("paced_1_100hz", "cpu_per_roundtrip_ms")
    bare_iso = get("curl_roundtrip_100hz", "cpu_per_roundtrip_ms")
    if iso is not None:
        rows.append(("  ... isolated requests, 1 printer at 100 Hz", "-", f"{iso:.4f} ms", "-",
                     "n/a"))
    if bare_iso is not None:
        rows.append(("  ... libcurl alone at 100 Hz (curl_roundtrip --rate 100)", "floor",
                     f"{bare_iso:.4f} ms", "-", "n/a"))

    # 2. RSS, one printer at 1 Hz
    floor = get("curl_floor", "vmrss_kb")
    rss1 = get("paced_1", "vmrss_kb")
    ref1 = get("ref_paced_1", "vmrss_kb")
    rows.append(("RSS, 1 printer at 1 Hz", "<= 12 MB", mb(rss1) if rss1 else "-",
                 mb(ref1) if ref1 else "-",
                 verdict(None if rss1 is None else rss1 <= 12 * 1024)))
    if floor is not None and rss1 is not None:
        rows.append(("  ... above the bare-libcurl floor (curl_floor: " + mb(floor) + ")",
                     "<= 2 MB", mb(rss1 - floor),
                     mb(ref1 - floor) if ref1 else "-", verdict(rss1 - floor <= 2048)))
    one = get("one_printer", "vmrss_kb")
    if one is not None:
        rows.append(("  ... the smallest host (one_printer)", "<= 12 MB", mb(one), "-",
                     verdict(one <= 12 * 1024)))
        if floor is not None:
            rows.append(("  ... one_printer above the floor", "<= 2 MB", mb(one - floor), "-",
                         verdict(one - floor <= 2048)))

    # 3. memory per additional printer
    r1k, r10k = get("paced_1000", "vmrss_kb"), get("paced_10000", "vmrss_kb")
    if r1k is not None and r10k is not None:
        slope = 1024.0 * (r10k - r1k) / 9000
        rows.append(("RSS per additional printer (1,000 -> 10,000)", "<= 16 KB",
                     f"{slope / 1024:.1f} KB", "-", verdict(slope <= 16 * 1024)))
    marg = get("paced_1000", "marginal_rss_per_printer_bytes")
    ref_marg = get("ref_paced_50", "marginal_rss_per_printer_bytes")
    if marg is not None:
        rows.append(("RSS per additional printer (1 -> 1,000, in-process)", "<= 16 KB",
                     f"{marg / 1024:.1f} KB",
                     f"{ref_marg / 1024:.1f} KB (1 -> 50)" if ref_marg is not None else "-",
                     verdict(marg <= 16 * 1024)))

    # 4. 10,000 printers
    d = runs.get("paced_10000")
    if d and not d.get("skipped"):
        rows.append(("10,000 printers: delivered", "100 %", f"{d['delivered_pct']:.2f} %", "-",
                     verdict(d["delivered"] >= d["expected"])))
        saturated = d["delivered"] < d["expected"]
        rows.append(("10,000 printers: CPU (share of one core)", "<= 1 core",
                     f"{d['cpu_share_core']:.2f}" + (" (saturated)" if saturated else ""), "-",
                     verdict(d["cpu_share_core"] <= 1.0 and not saturated)))
        rows.append(("10,000 printers: RSS", "<= 256 MB", mb(d["vmrss_kb"]), "-",
                     verdict(d["vmrss_kb"] <= 256 * 1024)))
        rows.append(("10,000 printers: telemetry lateness p99", "<= 250 ms",
                     f"{d['lateness_ms']['p99']:.1f} ms", "-",
                     verdict(d["lateness_ms"]["p99"] <= 250 and d["lateness_ms"]["samples"] > 0)))
    mp = runs.get("ref_maxprinters")
    if mp and not mp.get("skipped"):
        rows.append(("printers one OS user can start", "-", "10,000 (run above)",
                     f"{mp['created']} ({mp['error'] or 'no error'})", "n/a"))

    print(f"\nTargets{ref_note}:")
    w = [max(len(r[i]) for r in rows + [("target", "goal", "libprusaconnect",
                                         "reference SDK", "")]) for i in range(5)]
    hdr = ("target", "goal", "libprusaconnect", "reference SDK 0.8.1", "")
    for r in [hdr] + rows:
        print("  " + "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))

    print("\nN printers at 1 Hz each (CPU and RSS of the client process only; 'machine' = "
          "busy cores of the whole machine, 'emu' = emulator CPU s over the run):")
    print(f"  {'run':16} {'printers':>8} {'delivered':>10} {'CPU core':>9} {'CPU/rt ms':>10} "
          f"{'RSS':>9} {'per printer':>12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>9} "
          f"{'machine':>8} {'emu':>6}")
    for name in ("paced_1", "paced_50", "paced_100", "paced_1000", "paced_10000",
                 "ref_paced_1", "ref_paced_50"):
        d = runs.get(name)
        if not d or d.get("skipped"):
            continue
        lm = d["lateness_ms"]
        print(f"  {name:16} {d['printers']:>8} {d['delivered_pct']:>9.2f}% "
              f"{d['cpu_share_core']:>9.3f} {d['cpu_per_roundtrip_ms']:>10.4f} "
              f"{mb(d['vmrss_kb']):>9} {d['marginal_rss_per_printer_bytes'] / 1024:>9.1f} KB "
              f"{lm['p50']:>8.2f} {lm['p99']:>8.2f} {lm['max']:>9.2f} "
              f"{d.get('machine_busy_cores', float('nan')):>8.2f} "
              f"{d.get('emulator_cpu_s', float('nan')):>6.1f}")

    if len(sys.argv) > 2:
        try:
            with open(sys.argv[2]) as f:
                mbj = json.load(f)
            print("\nmicro_bench (sans-IO core, per operation):")
            for b in mbj.get("benchmarks", []):
                extra = f"  body {int(b['body_bytes'])} B" if "body_bytes" in b else ""
                print(f"  {b['name']:28} {b['real_time']:>10.0f} {b['time_unit']}"
                      f" (CPU {b['cpu_time']:.0f} {b['time_unit']}){extra}")
        except (OSError, ValueError) as e:
            print(f"\nmicro_bench: no results ({e})")


if __name__ == "__main__":
    main()
