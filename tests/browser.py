"""Headless Chromium for the tests that look at pages as people see them (Debian's chromium;
``.ci/run`` installs it): start it, talk to its DevTools protocol, wait for a page's figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["chromium", "devtools", "evaluate", "wait_for_images", "needs_chromium"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def devtools():
    """A headless Chromium and a function calling its DevTools protocol: ``call(method, **params)``."""
    import websocket

    profile = tempfile.mkdtemp(prefix="chromium-")
    browser = subprocess.Popen(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-port=0",
         "--hide-scrollbars", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.time() + 30
        while not port_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        ws = websocket.create_connection(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"], timeout=30,
                                     suppress_origin=True)  # Chromium refuses DevTools connections that name an origin

        def call(method: str, **params):
            call.n += 1
            ws.send(json.dumps({"id": call.n, "method": method, "params": params}))
            while True:
                reply = json.loads(ws.recv())
                if reply.get("id") == call.n:
                    return reply.get("result", {})

        call.n = 0
        yield call
        ws.close()
    finally:
        browser.kill()
        browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


def evaluate(call, script: str):
    return call("Runtime.evaluate", expression=script, returnByValue=True)["result"].get("value")


def wait_for_images(call, seconds: float = 60) -> list[bool]:
    script = "[...document.images].filter(i => i.src.startsWith('data:image')).map(i => i.complete && i.naturalWidth > 0)"
    deadline = time.time() + seconds
    loaded: list[bool] = []
    while time.time() < deadline:
        loaded = evaluate(call, script) or []
        if loaded and all(loaded):
            break
        time.sleep(0.2)
    return loaded


needs_chromium = pytest.mark.skipif(chromium() is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)")

