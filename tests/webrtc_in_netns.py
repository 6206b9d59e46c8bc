"""Drive page 00's live stream in Chromium with a fake camera, inside a loopback-only network.

Run by tests/test_webrtc_browser.py as ``unshare -n -- python tests/webrtc_in_netns.py``:
the process gets a private network namespace whose only interface is loopback, so WebRTC's
ICE candidates can never reach a real network.  aioice ignores 127.0.0.1, so loopback also
gets 127.0.0.2, where the Streamlit server listens.  Prints one JSON document: what the
page showed (the live status line, the video's size), how long after the tab was closed
the server's camera worker stopped (from the server's log), or what went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.browser import chromium_path, page_exceptions, streamlit_server, wait_for_app  # noqa: E402

HOST = "127.0.0.2"
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
               "--allow-loopback-in-peer-connection"]
STATUS = re.compile(r"Live prediction: (?P<label>.+?) \((?P<prob>\d+)%\) · (?P<fps>[\d.]+) "
                    r"frames/s scored · (?P<delay>\d+) ms delay · (?P<scored>\d+) frames scored")


def loopback_only() -> None:
    """Bring up this namespace's loopback with the extra address aioice will use."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{HOST}/8", "dev", "lo"], check=True)


def interfaces() -> list[str]:
    """Network interfaces of this namespace (only ``lo`` in a private one)."""
    listing = subprocess.run(["ip", "-o", "link", "show"], check=True, capture_output=True,
                             text=True).stdout
    return sorted(line.split(":")[1].strip() for line in listing.splitlines())


def read_status(page) -> dict | None:
    """The page's live status line, parsed, once frames have been scored."""
    for element in page.query_selector_all("[data-testid='stMarkdownContainer']"):
        match = STATUS.search(element.inner_text())
        if match:
            return {"label": match["label"], "probability": int(match["prob"]) / 100,
                    "fps": float(match["fps"]), "delay_ms": int(match["delay"]),
                    "scored": int(match["scored"]), "text": match.group(0)}
    return None


WORKER_STOPPED = "camera worker stopped: no frame for"


def seconds_until_logged(log: Path, text: str, since: int, timeout_s: float) -> float | None:
    """Seconds until ``text`` appears in ``log`` after byte ``since``; None if it never does."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if text in log.read_text(errors="replace")[since:]:
            return round(time.monotonic() - start, 1)
        time.sleep(1)
    return None


def drive(url: str, wait_s: float, min_scored: int, screenshot: str | None,
          server_log: Path) -> dict:
    """Open page 00, press START in the stream's iframe, wait for scored frames, close the
    tab mid-stream and wait for the server to let its camera worker go."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS + FAKE_CAMERA)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(f"{url}/Live_scoring", timeout=120_000)
        wait_for_app(page, timeout_ms=240_000)
        stream = page.frame_locator("iframe[title*='webrtc']").first
        stream.get_by_role("button", name=re.compile("^start$", re.I)).click(timeout=120_000)
        deadline, status = time.monotonic() + wait_s, None
        while time.monotonic() < deadline:
            status = read_status(page)
            if status and status["scored"] >= min_scored:
                break
            time.sleep(1)
        video = stream.locator("video").first
        if screenshot:
            video.screenshot(path=screenshot)
        size = video.evaluate("v => [v.videoWidth, v.videoHeight, v.currentTime]")
        result = {"status": status, "video": size, "exceptions": page_exceptions(page),
                  "url": page.url}
        logged_so_far = len(server_log.read_text(errors="replace"))
        page.close()  # the tab goes away while the camera is still streaming
        result["worker_stopped_after_s"] = seconds_until_logged(
            server_log, WORKER_STOPPED, logged_so_far, timeout_s=90)
        browser.close()
        return result


def main() -> None:
    """Set up the namespace, serve the app, drive the browser, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True, help="studio home for the server")
    parser.add_argument("--wait", type=float, default=180)
    parser.add_argument("--min-scored", type=int, default=10)
    parser.add_argument("--screenshot", help="save the annotated video frame here (PNG)")
    args = parser.parse_args()
    loopback_only()
    os.environ["CVLIB_ICE_SERVERS"] = "[]"
    result: dict = {"interfaces": interfaces()}
    try:
        with streamlit_server(Path(args.home), host=HOST) as url:
            server_log = Path(args.home) / f"streamlit-{url.rsplit(':', 1)[1]}.log"
            result.update(drive(url, args.wait, args.min_scored, args.screenshot, server_log))
    except Exception as exc:  # noqa: BLE001 - reported to the test as JSON
        result["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
