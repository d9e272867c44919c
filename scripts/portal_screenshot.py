"""Take the README's screenshot of the portal (docs/portal.png): start the local run on free ports, sign
in as the monthly Business demo tenant in Debian's Chromium, open the Renew flow with one seat more,
and save the page. Run: .venv/bin/python scripts/portal_screenshot.py [OUTPUT]"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "portal.png"
    with tempfile.TemporaryDirectory() as state:
        ready = Path(state) / "ready.json"
        run = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "selfservice_local", "--port", "0", "--moto-port", "0", "--no-schedules",
             "--state-dir", state, "--ready-file", str(ready)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if run.poll() is not None or time.monotonic() > deadline:
                    print("the local run did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            base_url = json.loads(ready.read_text())["base_url"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 640}, locale="en-GB")
                page.goto(f"{base_url}/#/signin")
                page.get_by_role("button", name="Sign in as the owner of Åkerlund & Öberg AB").click()
                page.get_by_role("link", name="Renew").click()
                page.get_by_role("button", name="One seat more").click()
                expect(page.get_by_label("Paid users for the renewal period")).to_have_value("13")
                expect(page.locator(".quote-aside .big")).to_have_text("€381.00")
                page.mouse.move(0, 0)
                output.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(output))
                browser.close()
        finally:
            run.send_signal(signal.SIGINT)
            run.wait(15)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
