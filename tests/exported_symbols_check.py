#!/usr/bin/python3
"""Checks what libprusaconnect.so exports (ctest `exported_symbols`).

Usage: exported_symbols_check.py LIBRARY OBJECT...

The library is compiled with hidden visibility and exports what the public
headers mark PRUSACONNECT_API (include/prusaconnect/export.h). Hosts link
only that, while the tests link the same objects statically, so a public
function whose export was forgotten would pass every unit test and fail only
in a host. This check closes that gap from both sides:

* every global function or object the objects define in `prusaconnect::`
  outside `prusaconnect::internal::` (the public API, by the tree's
  convention) must be in the library's dynamic symbol table;
* nothing in `prusaconnect::internal::` may be.
"""
import subprocess
import sys


def symbols(args):
    out = subprocess.run(["nm", "-C", "--defined-only"] + args, check=True,
                         capture_output=True, text=True).stdout
    result = set()
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and len(parts[1]) == 1:
            result.add((parts[1], parts[2]))
    return result


def is_public(name):
    for prefix in ("vtable for ", "typeinfo for ", "typeinfo name for "):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return (name.startswith("prusaconnect::")
            and not name.startswith("prusaconnect::internal::")
            and "(anonymous namespace)" not in name)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    library, objects = sys.argv[1], sys.argv[2:]
    exported = {name for _, name in symbols(["-D", library])}
    # Strong global definitions only: T text, D data, B bss, R read-only.
    wanted = sorted({name for kind, name in symbols(objects)
                     if kind in "TDBR" and is_public(name)})
    missing = [n for n in wanted if n not in exported]
    leaked = sorted(n for n in exported if n.startswith("prusaconnect::internal::"))
    for n in missing:
        print(f"not exported (add PRUSACONNECT_API to its declaration): {n}")
    for n in leaked:
        print(f"internal symbol exported: {n}")
    print(f"{len(exported)} symbols exported, {len(wanted)} public definitions checked")
    if not wanted:
        sys.exit("no public definitions found in the objects: wrong arguments?")
    sys.exit(1 if missing or leaked else 0)


if __name__ == "__main__":
    main()
