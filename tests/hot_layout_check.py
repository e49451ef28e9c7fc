"""Checks that the library was linked with its steady-state code first.

Usage: hot_layout_check.py LIBRARY LIST

LIST is src/hot_layout.ld (scripts/update-hot-layout). Every text symbol
whose section the list names must lie before every text symbol it does not
name: otherwise the linker ignored the layout and a telemetry-only process
maps the whole of the library's code again (docs/PERFORMANCE.md).
"""
import re
import subprocess
import sys


def main():
    lib, listing = sys.argv[1], sys.argv[2]
    listed, listed_cold = set(), set()  # .text.X and .text.unlikely.X (X.cold)
    with open(listing, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\*\(\.text\.(unlikely\.)?(\S+)\)$", line.strip())
            if m:
                (listed_cold if m.group(1) else listed).add(m.group(2))
    if not listed:
        sys.exit(f"{listing} names no function")

    out = subprocess.run(["nm", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    hot, cold = [], []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "tTwW":
            continue
        addr, name = int(parts[0], 16), parts[2]
        if name in ("_init", "_fini") or name.startswith("_GLOBAL__sub_I"):
            continue
        if name.endswith(".cold"):
            is_hot = name[: -len(".cold")] in listed_cold
        else:
            is_hot = name in listed
        if is_hot:
            hot.append((addr, name))
        elif not name.startswith(("deregister_tm_clones", "register_tm_clones",
                                  "__do_global_dtors_aux", "frame_dummy")):
            cold.append((addr, name))
    if len(hot) < len(listed) // 2:
        sys.exit(f"only {len(hot)} of the {len(listed)} listed functions are in {lib}; "
                 "rerun scripts/update-hot-layout")
    last_hot, first_cold = max(hot), min(cold)
    if last_hot[0] > first_cold[0]:
        sys.exit(f"{lib} was not linked with {listing}: {last_hot[1]} at {last_hot[0]:#x} "
                 f"comes after {first_cold[1]} at {first_cold[0]:#x}")
    print(f"{len(hot)} steady-state functions in {lib} end at {last_hot[0]:#x}, "
          f"the rest of the code starts at {first_cold[0]:#x}")


if __name__ == "__main__":
    main()
