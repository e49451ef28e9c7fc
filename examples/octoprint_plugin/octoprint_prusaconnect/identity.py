"""The printer's identity in Connect: the same rules as the daemon's
examples/octoprint_adapter/identity.cc (tests/octoprint/tables/identity.json
is run by both): a Prusa serial number from the firmware's M115 report, else
its UUID, else "OCTO-" + this machine's MAC address, else a random UUID.
"""
import hashlib
import os
import re
import uuid
from typing import Optional, Tuple

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PRINTER_SOURCES = ("prusa-serial", "m115-uuid")


def serial_from_firmware(data) -> Tuple[str, str]:
    """(serial, source) from the M115 data (OctoPrint's firmware info
    `data` dict), or ("", "") when it offers none."""
    if not isinstance(data, dict):
        return ("", "")
    for key in ("SN", "SERIAL", "SERIAL_NUMBER"):
        value = data.get(key)
        if isinstance(value, str) and value.strip().startswith("CZP"):
            return (value.strip(), "prusa-serial")
    value = data.get("UUID")
    if isinstance(value, str):
        value = value.strip()
        if _UUID.match(value) and set(value) - {"0", "-"}:
            return (value.lower(), "m115-uuid")
    return ("", "")


def serial_from_mac(sys_class_net: str = "/sys/class/net") -> str:
    """"OCTO-" + the MAC of the first interface by name (loopback and
    all-zero skipped), or ""."""
    try:
        names = sorted(n for n in os.listdir(sys_class_net) if n != "lo")
    except OSError:
        return ""
    for name in names:
        try:
            with open(os.path.join(sys_class_net, name, "address"), encoding="ascii") as f:
                mac = f.read().strip().replace(":", "").upper()
        except (OSError, UnicodeDecodeError):
            continue
        if len(mac) == 12 and mac != "000000000000":
            return "OCTO-" + mac
    return ""


def fallback() -> Tuple[str, str]:
    mac = serial_from_mac()
    if mac:
        return (mac, "mac")
    return (str(uuid.uuid4()), "random")


def fingerprint(serial: str) -> str:
    """The fingerprint Connect knows the printer by: SHA-256 hex of the
    serial number, as the daemon's."""
    return hashlib.sha256(serial.encode()).hexdigest()


def from_printer(source: Optional[str]) -> bool:
    return source in PRINTER_SOURCES
