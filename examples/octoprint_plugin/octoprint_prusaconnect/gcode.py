"""Connect's G-code, written for Prusa firmware, as a Marlin printer takes it.

The same table as the daemon's examples/octoprint_adapter/gcode_translate.cc;
tests/octoprint/tables/gcode.json is run by both.
"""
from typing import List, Tuple


def _lines(text: str) -> List[str]:
    # Connect may send "\\n" escaped in the text as well as real newlines.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\\n", "\n").split("\n")


def translate(text: str) -> Tuple[bool, List[str], str]:
    """(ok, lines to send, reason). A command with any refused line is
    refused whole: nothing runs half-way."""
    out: List[str] = []
    for line in _lines(text or ""):
        line = line.split(";", 1)[0].strip()
        if not line:
            continue
        word = line.split()[0].upper()
        if word == "G80":
            out.append("G29")  # Prusa mesh bed leveling
        elif word == "G28":
            params = [p for p in line.split()[1:] if p[0].upper() != "W"]
            out.append(" ".join(["G28"] + params))
        elif word in ("M701", "M702"):
            what = "load filament" if word == "M701" else "unload filament"
            return (False, [], f"{word} ({what}) is not supported by this Marlin printer "
                               "through OctoPrint; change filament at the printer or send M600")
        elif word == "M486":
            return (False, [], "M486 (cancel object) needs Marlin's CANCEL_OBJECTS, which "
                               "this printer is not known to have")
        elif word.startswith("M862"):
            continue  # Prusa printer/firmware checks: nothing to check on Marlin
        elif word == "PRUSA":
            return (False, [], f'"{line}" is a Prusa firmware command; Marlin has no equivalent')
        elif word[0] not in "GMT":
            return (False, [], f'"{line}" is not a G-code command')
        else:
            out.append(line)
    return (True, out, "")
