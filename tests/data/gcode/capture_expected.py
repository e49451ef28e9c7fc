#!/usr/bin/python3
"""Captures what Prusa's gcode-metadata extracts from our corpus.

Runs `gcode_metadata.get_metadata(path, save_cache=False)` from a checkout of
https://github.com/prusa3d/gcode-metadata (the SDK pins 6741caf) on every
print file of tests/data/gcode/ and on the 200 MB file assembled from
large_recipe.json, and writes one JSON per file into expected/:

  data             meta.data, in gcode-metadata's key order
  thumbnails       [{"key": "WxH_FORMAT", "data": base64}] in its dict order
  sdk_preview_key  the thumbnail the SDK sends as `preview` (the longest)
  parse_stopped    gcode-metadata logged an exception and kept what it had

Our own script: it is run by hand when the corpus changes, never by CI, and
it needs no dependency beyond the checkout (no cache files are written).

Usage: /usr/bin/python3 capture_expected.py /path/to/gcode-metadata [--time]
"""
import json
import logging
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in the corpus or the checkout
HERE = os.path.dirname(os.path.abspath(__file__))
EXTENSIONS = (".gcode", ".gc", ".g", ".gco", ".sl1", ".sl1s", ".m1")


class Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def capture(get_metadata, path, name, collector):
    collector.records.clear()
    meta = get_metadata(path, save_cache=False)
    thumbnails = [{"key": k, "data": v.decode()} for k, v in meta.thumbnails.items()]
    biggest = None
    for key, value in meta.thumbnails.items():  # the SDK's get_file_info rule
        if biggest is None or len(value) > len(meta.thumbnails[biggest]):
            biggest = key
    return {
        "file": name,
        "data": meta.data,
        "thumbnails": thumbnails,
        "sdk_preview_key": biggest,
        "parse_stopped": any(r.exc_info for r in collector.records),
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    checkout = os.path.abspath(sys.argv[1])
    sys.path.insert(0, checkout)
    from gcode_metadata import get_metadata  # pylint: disable=import-outside-toplevel
    try:
        commit = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"

    collector = Collector()
    logging.getLogger("connect-printer").addHandler(collector)
    out_dir = os.path.join(HERE, "expected")
    os.makedirs(out_dir, exist_ok=True)

    def save(result):
        result["gcode_metadata"] = commit
        with open(os.path.join(out_dir, result["file"] + ".json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, ensure_ascii=False, allow_nan=False)
            f.write("\n")

    for name in sorted(os.listdir(HERE)):
        if name.lower().endswith(EXTENSIONS):
            save(capture(get_metadata, os.path.join(HERE, name), name, collector))

    sys.path.insert(0, HERE)
    import make_corpus  # pylint: disable=import-outside-toplevel
    recipe = make_corpus.LARGE_RECIPE
    with tempfile.TemporaryDirectory() as tmp:
        large = os.path.join(tmp, recipe["name"])
        make_corpus.build_large(HERE, large)
        result = capture(get_metadata, large, recipe["name"], collector)
        result["size"] = os.path.getsize(large)
        save(result)
        if "--time" in sys.argv:
            runs = []
            for _ in range(20):
                start = time.perf_counter()
                get_metadata(large, save_cache=False)
                runs.append(time.perf_counter() - start)
            runs.sort()
            print(f"gcode-metadata on {recipe['name']}: median {runs[10] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
