#!/usr/bin/python3
"""Which pages of a shared library are resident in a running process.

Usage: bench/resident_pages.py PID [NAME]   (NAME defaults to libprusaconnect)

For every mapping of a file whose path contains NAME, prints the
permissions, the file offset, the pages mapped and present, and one
character per page ('#' present, '.' not), 64 pages per line, read from
/proc/PID/pagemap (the present bit needs no privilege). Used for the code
layout measurements of issue #2 in docs/PERFORMANCE.md: with the kernel's
64 KiB fault-around, a touched page brings its whole window with it.
"""
import struct
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pid = int(sys.argv[1])
    name = sys.argv[2] if len(sys.argv) > 2 else "libprusaconnect"
    with open(f"/proc/{pid}/maps", encoding="utf-8") as f:
        maps = [line.split() for line in f]
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for m in maps:
            if len(m) < 6 or name not in m[5]:
                continue
            start, end = (int(x, 16) for x in m[0].split("-"))
            offset = int(m[2], 16)
            pages = (end - start) // 4096
            pagemap.seek(start // 4096 * 8)
            data = pagemap.read(pages * 8)
            bits = "".join("#" if struct.unpack_from("<Q", data, i * 8)[0] >> 63 else "."
                           for i in range(pages))
            print(f"{m[1]} {offset:#x} {pages} pages, {bits.count('#')} present  {m[5]}")
            for i in range(0, pages, 64):
                print(f"    {offset + i * 4096:#9x} {bits[i:i + 64]}")


if __name__ == "__main__":
    main()
