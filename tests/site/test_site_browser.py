"""The built site in a real browser: navigation, instant loading, search; screenshots for review."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site served by `python -m http.server` on a free loopback port."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=built_site,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 43127 (...) ..."
        match = re.search(r"port (\d+)", banner)
        assert match, f"http.server did not start: {banner!r}"
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_navigate_search_and_screenshot(site_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            expect = sync_api.expect

            page.goto(f"{site_url}/")
            expect(page.locator("h1")).to_have_text(re.compile("Docker registries"))
            page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

            nav = page.locator("nav.md-nav--primary")
            nav.get_by_role("link", name="Tagging strategies").click()
            expect(page).to_have_url(re.compile(r"/lessons/tagging-strategies/$"))
            expect(page.locator("h1")).to_have_text(re.compile("^Tagging strategies"))
            # solutions start collapsed
            solution = page.locator("details.success").first
            expect(solution).not_to_have_attribute("open", "")

            nav.get_by_role("link", name="Start here").click()
            expect(page).to_have_url(re.compile(r"/lab/$"))
            expect(page.locator("h1")).to_have_text(re.compile("Lab: Docker registries"))
            expect(page.get_by_role("link", name="Push to your own registry").first).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "lab.png"), full_page=True)

            page.get_by_role("link", name="Push to your own registry").first.click()
            expect(page).to_have_url(re.compile(r"/lab/local-registry/$"))
            expect(page.get_by_text("localhost:5000/my-app:latest is in the registry")).to_be_visible()

            page.locator("input.md-search__input").click()
            page.keyboard.type("digest")
            results = page.locator(".md-search-result__item")
            expect(results.first).to_be_visible(timeout=15_000)
            assert results.count() > 0
        finally:
            browser.close()
    assert not errors, f"JavaScript errors: {errors}"
