"""Page 00's live stream in a real browser: Chromium's fake camera, labels and frame rate.

WebRTC sends packets to every address it finds, so the server and the browser run inside
a private network namespace with only loopback (``unshare -n``, see
tests/webrtc_in_netns.py) and no STUN/TURN servers: nothing can leave the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import SKIP_MESSAGE, chromium_path

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser


def private_network_prefix() -> list[str] | None:
    """``unshare`` arguments that give a private network namespace here, if any does.

    Root gets one with ``-n``; other users need ``-rn`` (a user namespace, if enabled).
    """
    for prefix in (["unshare", "-n", "--"], ["unshare", "-rn", "--"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=20).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            return None
    return None


def test_fake_camera_stream_shows_live_labels_and_frame_rate_and_a_closed_tab_frees_the_camera(
        tmp_path):
    if chromium_path() is None:
        pytest.skip(SKIP_MESSAGE)
    prefix = private_network_prefix()
    if prefix is None:
        pytest.skip("`unshare -n` is not permitted here: the WebRTC test only runs in a "
                    "private loopback-only network namespace (run as root or enable user "
                    "namespaces)")
    done = subprocess.run(
        [*prefix, sys.executable, str(REPO / "tests" / "webrtc_in_netns.py"),
         "--home", str(tmp_path), "--wait", "240", "--min-scored", "10"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, result["error"]
    assert result["interfaces"] == ["lo"], "the browser and server saw only loopback"
    assert result["exceptions"] == []
    status = result["status"]
    assert status is not None, "no live prediction appeared"
    print(status["text"])
    assert status["label"] and 0 < status["probability"] <= 1
    assert status["fps"] > 0 and status["scored"] >= 10
    width, height, played_s = result["video"]
    assert (width, height) == (640, 480) and played_s > 0, "the annotated video plays"
    stopped = result["worker_stopped_after_s"]
    print(f"camera worker stopped {stopped} s after the tab was closed")
    assert stopped is not None, "closing the tab mid-stream must end the server's camera worker"
    assert stopped <= 30 + 20, "it ends once frames have stopped for 30 s"
