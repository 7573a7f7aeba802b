"""Browser fixtures: Debian's Chromium driven by playwright, strict about errors and network.

Every page opened through ``open_page`` fails its test on a console error, an
uncaught exception or any request that is not the page's own file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("OPTVIZ_SCREENSHOTS") or Path(tempfile.gettempdir()) / "optviz-explore-shots")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("OPTVIZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def wait_until(page, expression: str, timeout: float = 20.0, errors: list[str] | None = None) -> None:
    """Poll ``expression`` with page.evaluate (the page's CSP forbids the eval that
    playwright's wait_for_function uses); stop at the first page error."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if errors:
            raise AssertionError(f"the page failed: {errors}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page never made {expression!r} true")
        page.wait_for_timeout(20)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A page and what it did: console messages, page errors, requests."""

    def __init__(self, page, context):
        self.page, self.context = page, context
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", self._request)
        context.route("**/*", self._route)

    def _request(self, request):
        if not request.url.startswith("file:"):
            self.requests.append(request.url)

    def _route(self, route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def eval(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [], f"the page made network requests: {self.requests}"


@pytest.fixture
def open_page(browser):
    """``open_page(path, fragment="", width=1280, height=900)`` -> :class:`Opened`; checked
    for errors and requests when the test ends."""
    opened: list[Opened] = []

    def _open(path: Path, fragment: str = "", *, width: int = 1280, height: int = 900, scale: float = 1) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
        page = context.new_page()
        o = Opened(page, context)
        opened.append(o)
        page.goto(Path(path).resolve().as_uri() + fragment)
        wait_until(page, "window.optvizPage && window.optvizPage.ready", errors=o.errors)
        return o

    yield _open
    for o in opened:
        try:
            o.check_clean()
        finally:
            o.context.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
