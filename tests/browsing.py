"""What the browser tests share: Debian's Chromium driven by Playwright, and the review
server started by `serve()` on a free loopback port in a thread of the test process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from accentds.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


def require_browser() -> ModuleType:
    """Playwright's sync API; the calling test module is skipped without Chromium or
    Playwright, except on CI, which installs them: there a missing browser fails."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("fastapi", reason="the review app needs fastapi")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@contextmanager
def serving(ws: Workspace, reviewer: str) -> Iterator[str]:
    """The review server of `ws` in a thread; yields the page's address (with its token)."""
    from accentds.review import serve

    urls: list[str] = []
    ready, stop = threading.Event(), threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    kwargs = {"open_browser": False, "reviewer": reviewer, "on_ready": on_ready, "stop": stop}
    thread = threading.Thread(target=serve, args=(ws,), kwargs=kwargs, daemon=True)
    thread.start()
    assert ready.wait(15), "the review server did not start"
    try:
        yield urls[0]
    finally:
        stop.set()
        thread.join(10)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright Browser)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


def api_url(base_url: str, path: str) -> tuple[str, dict[str, str]]:
    """The address of an API path of the server at `base_url` (which holds the page's
    token), and the token header a request needs."""
    parts = urlsplit(base_url)
    return f"http://{parts.netloc}{path}", {"X-Accentds-Token": parts.query.removeprefix("token=")}


def wait_saved(page: Any) -> None:
    """Wait until every save the page sent is answered: a save key moves on at once, and the
    list is marked busy until then."""
    page.wait_for_function("() => !document.querySelector('#queue').hasAttribute('aria-busy')")


@contextmanager
def review_page(browser: Any, url: str, ready: str = "#queue li") -> Iterator[Any]:
    """A page of the review app at `url`, once `ready` (a selector: by default its clip list)
    is visible; on leaving, the test fails if the page's script threw."""
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(ready, state="visible")
    yield page
    page.close()
    assert errors == []
