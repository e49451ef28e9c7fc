"""A real headless Chromium (Debian's `chromium`) driven over the DevTools
protocol (python3-websockets), for tests of web pages: load a page, evaluate
JavaScript in it, and collect console errors, uncaught exceptions and failed
loads. Everything stays on loopback."""
import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
import websockets


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    def __init__(self):
        exe = find_chromium()
        if exe is None:
            raise RuntimeError("chromium is not installed (Debian: apt install chromium)")
        self.profile = tempfile.mkdtemp(prefix="pc-chromium-")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--metrics-recording-only",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        deadline = time.time() + 30
        while time.time() < deadline and port is None:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools endpoint")
        # Keep draining stderr so that chromium never blocks on it.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws_url = pages[0]["webSocketDebuggerUrl"]
        self.problems = []  # console errors, exceptions, failed loads
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.next_id = 0
        self.pending = {}
        self._call(self._connect())
        for method in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            self.send(method)

    # ---- protocol ----
    def _call(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self):
        self.ws = await websockets.connect(self.ws_url, max_size=None)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for text in self.ws:
                msg = json.loads(text)
                if "id" in msg:
                    fut = self.pending.pop(msg["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                else:
                    self._event(msg.get("method"), msg.get("params", {}))
        except websockets.ConnectionClosed:
            return

    def _event(self, method, params):
        problem = None
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problem = "console." + params["type"] + ": " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            problem = "exception: " + d.get("exception", {}).get("description", d.get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            e = params["entry"]
            problem = "log: " + e.get("text", "") + " " + e.get("url", "")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problem = "load failed: " + params.get("errorText", "")
        if problem:
            with self.lock:
                self.problems.append(problem)

    async def _send(self, method, params):
        self.next_id += 1
        i = self.next_id
        fut = self.loop.create_future()
        self.pending[i] = fut
        await self.ws.send(json.dumps({"id": i, "method": method, "params": params or {}}))
        return await fut

    def send(self, method, params=None):
        msg = self._call(self._send(method, params))
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    # ---- for tests ----
    def navigate(self, url):
        self.send("Page.navigate", {"url": url})

    def eval(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def errors(self):
        with self.lock:
            return list(self.problems)

    def close(self):
        try:
            if hasattr(self, "ws"):
                self._call(self.ws.close(), timeout=5)
        except Exception:  # noqa: BLE001 (closing whatever state it is in)
            pass
        if hasattr(self, "loop"):
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    """A headless Chromium for one test; a missing chromium fails the test
    (scripts/bootstrap installs it)."""
    if find_chromium() is None:
        pytest.fail("chromium is missing: scripts/bootstrap installs it")
    b = Chromium()
    yield b
    b.close()
