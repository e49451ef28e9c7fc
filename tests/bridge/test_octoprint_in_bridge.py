"""OctoPrint printers in the bridge: the identity from the printer's M115
UUID through the push socket on the bridge's WebSocket loop, and states that
follow the socket."""
import os

from conftest import fingerprint, wait_for
from fake_octoprint import FakeOctoPrint

UUID = "cede2a2f-41a2-4748-9b12-c55c62f367ff"


def test_identity_from_m115_and_the_push_socket(bridges, emulator):
    a = FakeOctoPrint(api_key="KEY").start()
    b = FakeOctoPrint(api_key="KEY").start()  # the same printer model: the same UUID
    try:
        printers = [{"name": n, "host": "octoprint", "url": f.url, "api_key": "KEY",
                     "idle_interval_ms": 5000, "printing_interval_ms": 5000}
                    for n, f in (("one", a), ("two", b))]
        br = bridges(printers).start()
        assert br.wait_log("new identity: serial number " + UUID + " (from m115-uuid)")
        assert br.wait_log("another printer of this bridge already uses")
        ids = {n: open(os.path.join(br.state, n, "identity")).read() for n in ("one", "two")}
        assert sum(UUID in text for text in ids.values()) == 1
        # The push socket is up (on the bridge's loop): a state change reaches
        # Connect long before the 5 s poll.
        assert wait_for(lambda: len(a.sockets) >= 1 and len(b.sockets) >= 1)
        for code in emulator.codes():
            if code.get("approved") is not True:
                emulator.approve(code["code"])
        assert br.wait_log("[one] registered") and br.wait_log("[two] registered")
        sn = next(line[7:] for line in ids["one"].splitlines() if line.startswith("serial="))
        fp = fingerprint(sn)
        assert wait_for(lambda: emulator.telemetry(fp).get("state") == "IDLE")
        a.set_connected(False)
        assert emulator.wait_state(fp, "ERROR", timeout=4)
    finally:
        a.stop()
        b.stop()
