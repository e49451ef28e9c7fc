"""A mixed bridge: two fake OctoPrints and two fake Moonrakers in one
process; one host going down does not disturb the others."""
from conftest import wait_for
from fake_octoprint import FakeOctoPrint


def test_one_host_down_the_others_keep_reporting(bridges, emulator, moonraker):
    octos = [FakeOctoPrint(api_key="KEY").start() for _ in range(2)]
    try:
        mrs = [moonraker() for _ in range(2)]
        printers = [{"name": f"octo{i}", "host": "octoprint", "url": o.url, "api_key": "KEY",
                     "idle_interval_ms": 300} for i, o in enumerate(octos)]
        printers += [{"name": f"klipper{i}", "host": "moonraker", "url": m.url,
                      "idle_interval_ms": 300} for i, m in enumerate(mrs)]
        b = bridges(printers)
        fps = {p["name"]: b.provision(p["name"]) for p in printers}
        b.start()
        for name, fp in fps.items():
            assert emulator.wait_state(fp, "IDLE"), name
        # One Moonraker goes away: only its printer reports ERROR.
        mrs[0].stop()
        ev = emulator.wait_state(fps["klipper0"], "ERROR", timeout=20)
        assert "Moonraker unreachable" in ev["body"]["reason"]
        marks = {n: len(emulator.telemetry_log(fp)) for n, fp in fps.items()}
        for name in ("octo0", "octo1", "klipper1"):
            assert wait_for(lambda n=name: len(emulator.telemetry_log(fps[n])) > marks[n] + 3), name
            assert not emulator.events(fps[name], "STATE_CHANGED") or all(
                e["state"] == "IDLE" for e in emulator.events(fps[name], "STATE_CHANGED")), name
        # One OctoPrint goes away too: its printer only.
        octos[1].stop()
        ev = emulator.wait_state(fps["octo1"], "ERROR", timeout=30)
        assert "OctoPrint" in ev["body"]["reason"]
        mark = len(emulator.telemetry_log(fps["octo0"]))
        assert wait_for(lambda: len(emulator.telemetry_log(fps["octo0"])) > mark + 3)
        # Threads do not grow with printers: the bridge runs on a fixed set.
        threads = len(__import__("os").listdir(f"/proc/{b.proc.pid}/task"))
        assert threads < 16, threads
    finally:
        for o in octos:
            try:
                o.stop()
            except Exception:  # noqa: BLE001 - stopped already
                pass
