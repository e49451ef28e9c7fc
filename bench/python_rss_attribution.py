#!/usr/bin/python3
"""Where the memory goes when a Python host (e.g. an OctoPrint plugin)
imports `prusaconnect` and runs one printer, against Prusa's SDK: RSS added
per mapping (/proc/self/smaps), after importing what OctoPrint imports
anyway. docs/PERFORMANCE.md, "OctoPrint plugin".

    PYTHONPATH=build/python bench/python_rss_attribution.py ours
    bench/python_rss_attribution.py reference --sdk /path/with/prusa/connect/printer
"""
import argparse
import collections
import sys
import threading
import time


def rss_by_mapping():
    out = collections.Counter()
    name = None
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                name = parts[5] if len(parts) >= 6 else "[anon]"
            elif parts[0] == "Rss:":
                out[name] += int(parts[1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("which", choices=["ours", "reference"])
    ap.add_argument("--sdk", default="")
    args = ap.parse_args()
    import flask  # noqa: F401  what OctoPrint has loaded already
    import requests  # noqa: F401
    import ssl  # noqa: F401
    time.sleep(0.2)
    before = rss_by_mapping()
    if args.which == "ours":
        from prusaconnect import Printer, const  # pylint: disable=import-outside-toplevel
        printer = Printer(const.PrinterType.I3MK3, "SN1", "FP1", background_handlers=True)
        printer.set_connection("http://127.0.0.1:9", "token")
        printer.start()
    else:
        sys.path.insert(0, args.sdk)
        from prusa.connect.printer import Printer, const  # pylint: disable=import-outside-toplevel,import-error
        printer = Printer(const.PrinterType.I3MK3, "SN1", "FP1")
        printer.set_connection("http://127.0.0.1:9", "token")
        threading.Thread(target=printer.loop, daemon=True).start()
    for i in range(20):
        printer.telemetry(temp_nozzle=20.0 + i)
        time.sleep(0.1)
    time.sleep(1)
    after = rss_by_mapping()
    added = {k: after[k] - before.get(k, 0) for k in after}
    print(f"{args.which}: added RSS {sum(added.values())} kB")
    for k, v in sorted(added.items(), key=lambda kv: -kv[1])[:16]:
        if v:
            print(f"  {v:6d} kB  {k}")


if __name__ == "__main__":
    main()
