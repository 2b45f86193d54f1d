"""The what-if explorer as a strategist uses it: `funnelsim app` serves it, a slider move redraws.

The browser test starts the app on a free port, opens it in headless Chromium, waits for the
sliders and the first picture, moves the first slider one step with the keyboard (as a person
would with the arrow key) and checks that the picture is redrawn. How long a redraw takes is
measured by ``benchmarks/bench_classroom.py``, not asserted here.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from browser import devtools, evaluate, needs_chromium
from click.testing import CliRunner
from conftest import FUNNELSIM, ROOT

from funnelsim.cli import main



def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_bad_scenario_stops_before_the_server_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "params/baseline.yaml") + "\nfollow_up:\n  follow_up_rate: 1.7\n")
    result = CliRunner().invoke(main, ["app", str(bad), "--port", str(_free_port())])
    assert result.exit_code == 2 and "follow_up.follow_up_rate" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["app", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml" in missing.output


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["app", "--port", str(port)])
    assert result.exit_code == 2 and f"--port {port}: in use" in result.output


def _wait_for_server(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert server.poll() is None, "the app exited"
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _state(call) -> dict:
    try:
        text = evaluate(call, "JSON.stringify({handles: document.querySelectorAll('.noUi-handle').length, "
                              "pictures: [...document.images].filter(i => i.src.startsWith('data:image')).map(i => i.src.length + ':' + i.src.slice(-64)), "
                              "readouts: [...document.querySelectorAll('.widget-readout')].map(e => e.innerText)})")
    except Exception:  # the page is still loading
        return {}
    return json.loads(text) if text else {}


def _until(call, ready, seconds: float) -> dict:
    deadline = time.time() + seconds
    state: dict = {}
    while time.time() < deadline:
        state = _state(call)
        if state and ready(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds} s: {state}")


@needs_chromium
@pytest.mark.xdist_group("tcp-kernels")  # its kernel uses TCP ports, as plain papermill's does (see test_reports)
def test_moving_a_slider_redraws_the_picture(tmp_path):
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    server = subprocess.Popen([FUNNELSIM, "app", str(ROOT / "params/scenarios/fully-aligned.yaml"), "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for_server(url, server)
        with devtools() as call:
            call("Emulation.setDeviceMetricsOverride", width=1400, height=1100, deviceScaleFactor=1, mobile=False)
            call("Page.navigate", url=url)
            before = _until(call, lambda s: s["handles"] > 0 and s["pictures"], 180)
            assert "Starting company: Fully aligned" in evaluate(call, "document.body.innerText")
            (tmp_path / "app.png").write_bytes(base64.b64decode(call("Page.captureScreenshot", format="png")["data"]))
            assert evaluate(call, "const h = document.querySelector('.noUi-handle'); h.focus(); document.activeElement === h")
            for kind in ("keyDown", "keyUp"):
                call("Input.dispatchKeyEvent", type=kind, key="ArrowRight", code="ArrowRight", windowsVirtualKeyCode=39)
            after = _until(call, lambda s: s["pictures"] and s["pictures"] != before["pictures"], 120)
        assert after["readouts"][0] != before["readouts"][0]  # the slider moved, and the picture is a new one
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
