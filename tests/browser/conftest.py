"""The portal in a real browser: Debian's Chromium, driven headless by Playwright, against the local run
started once for the session (as tests/e2e starts it) and stopped with Ctrl-C at the end.

The browser comes from the system (`apt-get install chromium`), never from `playwright install`. Without
/usr/bin/chromium the tests are skipped on a developer's machine, but fail on CI (the CI variable set):
.ci/run installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e.conftest import ROOT, LocalRunProcess, launch, seeded_tenants

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or os.environ.get("CI"):
        return  # on CI a missing browser fails the tests instead of skipping them
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium); "
                                   "set CI=1 to make that a failure instead of a skip")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def local_run_process(state_dir: Path) -> AbstractContextManager[LocalRunProcess]:
    """`python -m selfservice_local` on free ports until the block ends, then Ctrl-C and a clean exit
    (e2e's `launch`). No background schedules: a test that needs the period-end applier runs it (POST
    /_local/period-end/run), so nothing happens between two steps of a journey."""
    return contextmanager(launch)(state_dir, "--no-schedules")


@pytest.fixture(scope="session")
def portal_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunProcess]:
    with local_run_process(tmp_path_factory.mktemp("portal-run")) as run:
        yield run


@pytest.fixture(scope="session")
def demo(portal_run: LocalRunProcess) -> dict[str, dict[str, Any]]:
    return seeded_tenants(portal_run)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (CI is set, so this is not skipped)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Portal:
    """One browser tab on the portal, with the steps every journey shares."""

    page: Any
    run: LocalRunProcess
    errors: list[str]

    def open(self, fragment: str = "") -> None:
        self.page.goto(self.run.url("/") + (f"#{fragment}" if fragment else ""))

    def sign_in(self, tenant: dict[str, Any]) -> None:
        self.open("/signin")
        self.page.get_by_role("button", name=f"Sign in as the owner of {tenant['name']}").click()
        self.page.get_by_role("heading", level=1, name="Subscriptions").wait_for()
        self.page.locator("article.tile").first.wait_for()

    def tile(self, subscription_id: str) -> Any:
        return self.page.locator(f'article.tile[data-subscription="{subscription_id}"]')

    def dialog(self) -> Any:
        return self.page.get_by_role("dialog")

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    # The API directly, for arranging and checking state around a journey.
    def api(self, tenant: dict[str, Any], method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.run.call(method, path, tenant["id"], **kwargs)


@contextmanager
def browser_tab(chromium: Any, run: LocalRunProcess) -> Iterator[Portal]:
    """A fresh browser context (no stored sign-in) with one tab on the portal of `run`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        yield Portal(page, run, errors)
    finally:
        context.close()
    # An API refusal may log a failed request (4xx) to the console; an uncaught exception never.
    uncaught = [e for e in errors if "Failed to load resource" not in e]
    assert not uncaught, uncaught


@pytest.fixture
def portal(chromium: Any, portal_run: LocalRunProcess) -> Iterator[Portal]:
    with browser_tab(chromium, portal_run) as tab:
        yield tab
