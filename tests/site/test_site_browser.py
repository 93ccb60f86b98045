"""The built site in a real browser, every page at 1280 px and 390 px.

Served by `labcheck docs`'s own server (labcheck.docs.SiteServer) on a free loopback port.
For each page: no horizontal page overflow, no request to any other host, no console error,
every Mermaid diagram rendered as an SVG, the time estimate under the title, and for every
runnable block the text its copy button copies equals what scripts/site-commands executes.
Plus the learner's path: instant navigation, Next links in path order, hints and solutions
collapsed, search. Screenshots of every page go to artifacts/screenshots (CI keeps them).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from labcheck.docs import SiteServer
from labcheck.session import load_lab

ROOT = Path(__file__).resolve().parents[2]
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
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WIDTHS = (1280, 390)
# Material renders each diagram into a closed shadow root; opened here so the test can see the SVG.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


def _site_commands() -> ModuleType:
    script = ROOT / "scripts" / "site-commands"
    loader = importlib.machinery.SourceFileLoader("site_commands", str(script))
    spec = importlib.util.spec_from_loader("site_commands", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["site_commands"] = module
    loader.exec_module(module)
    return module


sc = _site_commands()


def site_pages() -> list[str]:
    """Every page of the site, as docs paths: the nav's, with the exercises the hook adds."""
    pages = [p for p in sc.nav_pages() if p != "lab/index.md"]
    pages += [f"lab/{ex.id}.md" for ex in load_lab("part7").exercises] + ["lab/index.md"]
    return pages


def url_path(page: str) -> str:
    """The URL path of a docs page (use_directory_urls)."""
    path = page.removesuffix(".md")
    path = path.removesuffix("index")
    return path if not path or path.endswith("/") else f"{path}/"


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    server = SiteServer(built_site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose requests to other hosts and console errors are recorded."""

    def __init__(self, browser: Any, site_url: str, width: int) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
        )
        self.context.add_init_script(OPEN_SHADOW_ROOTS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        own = urlsplit(site_url).netloc
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

        def request(req: Any) -> None:
            parts = urlsplit(req.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
                self.foreign.append(req.url)

        self.page.on("request", request)

    def close(self) -> None:
        self.context.close()


def test_the_test_sees_every_page_of_the_site(built_site: Path) -> None:
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    built = {urlsplit(loc).path for loc in re.findall(r"<loc>([^<]*)</loc>", sitemap)}
    assert built == {"/" + url_path(p) for p in site_pages()}


def _diagrams_rendered(page: Any, expected: int) -> None:
    page.wait_for_function(
        """n => [...document.querySelectorAll("div.mermaid")]
              .filter(d => d.shadowRoot && d.shadowRoot.querySelector("svg g")).length === n""",
        arg=expected,
        timeout=20_000,
    )


def _copied_texts(page: Any, count: int) -> list[str]:
    """Click the copy button of each code block (opening its tab or details first); the clipboard."""
    copied: list[str] = []
    for n in range(count):
        pre = page.locator("article pre:not(.mermaid)").nth(n)
        pre.evaluate(
            """pre => {
                for (let el = pre; el; el = el.parentElement) {
                    if (el.tagName === "DETAILS") el.open = true;
                    if (el.classList.contains("tabbed-block")) {
                        const set = el.closest(".tabbed-set");
                        const index = [...el.parentElement.children].indexOf(el);
                        set.querySelectorAll(":scope > input")[index].checked = true;
                    }
                }
            }"""
        )
        pre.scroll_into_view_if_needed()
        pre.hover()
        page.evaluate("navigator.clipboard.writeText('')")
        pre.locator("button.md-code__button[data-md-type=copy]").click()
        copied.append(page.evaluate("navigator.clipboard.readText()"))
    return copied


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("docs_page", site_pages())
def test_every_page_offline_fitting_rendered_and_copyable(
    browser: Any, site_url: str, built_site: Path, docs_page: str, width: int
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched = Watched(browser, site_url, width)
    page = watched.page
    try:
        page.goto(site_url + url_path(docs_page), wait_until="load")
        html_file = built_site / url_path(docs_page) / "index.html"
        diagrams = html_file.read_text(encoding="utf-8").count('<pre class="mermaid">')
        _diagrams_rendered(page, diagrams)
        assert re.search(r"about \d+ minutes", page.locator("article .lc-time").first.inner_text())
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{docs_page} at {width} px is {overflow} px wider than the window"

        source = ROOT / "site" / docs_page
        if source.is_file():  # a hand-written page: what site-commands runs is what a learner copies
            blocks = sc.extract_blocks(source.read_text(encoding="utf-8"), docs_page)
            code_blocks = [b for b in blocks if b.language != "mermaid"]
            assert page.locator("article pre:not(.mermaid)").count() == len(code_blocks)
            copied = _copied_texts(page, len(code_blocks))
            for block, text in zip(code_blocks, copied, strict=True):
                if block.runnable:
                    assert text.rstrip("\n") == block.code.rstrip("\n"), f"{docs_page}:{block.line}"

        name = url_path(docs_page).strip("/").replace("/", "-") or "home"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    finally:
        watched.close()
    assert not watched.foreign, f"{docs_page} requested other hosts: {watched.foreign}"
    assert not watched.errors, f"{docs_page} logged errors: {watched.errors}"


def test_the_path_home_to_finish_with_instant_navigation(browser: Any, site_url: str) -> None:
    """Next, Next, ...: the learner's path in order, without a full page load."""
    sync_api = pytest.importorskip("playwright.sync_api")
    watched = Watched(browser, site_url, 1280)
    page = watched.page
    spec = load_lab("part7")
    order: list[str] = []
    for docs_page in sc.nav_pages():
        if docs_page.startswith("instructors/"):
            break
        if docs_page != "lab/index.md":
            order.append(docs_page)
        order += [f"lab/{ex.id}.md" for ex in spec.exercises if ex.lesson.strip("/") + ".md" == docs_page]
    order.append("lab/index.md")
    try:
        page.goto(site_url)
        page.evaluate("window.__no_reload = true")
        for docs_page in order[1:]:
            page.locator("a.md-footer__link--next").click()
            # navigation.tracking may add the heading in view as a fragment
            sync_api.expect(page).to_have_url(re.compile(re.escape(site_url + url_path(docs_page)) + "(#.*)?$"))
            assert page.evaluate("window.__no_reload === true"), f"a full page load on the way to {docs_page}"
        assert page.locator("a.md-footer__link--next").count() == 1  # Finish leads on to the instructors only
    finally:
        watched.close()
    assert not watched.errors and not watched.foreign


def test_an_exercise_shows_no_solution_until_asked(browser: Any, site_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    watched = Watched(browser, site_url, 390)
    page = watched.page
    expect = sync_api.expect
    try:
        page.goto(site_url + "lab/hub-publish/")
        expect(page.locator("h1")).to_have_text(re.compile("^Exercise 2: Publish on"))
        solution = page.get_by_text("docker push localhost:5001/learner/my-app:v1.0.0")
        shape = page.get_by_text("docker tag NAME:latest HUB/NAMESPACE/REPOSITORY:TAG")
        expect(solution).to_be_hidden()
        expect(shape).to_be_hidden()
        details = page.locator("article details")
        assert details.count() == 3 and all(details.nth(i).get_attribute("open") is None for i in range(3))
        page.get_by_text("Hint 2: the shape of the commands").click()
        expect(shape).to_be_visible()
        expect(solution).to_be_hidden()
        page.get_by_text("Solution: the commands").click()
        expect(solution).to_be_visible()
        # every value the learner needs is on the page, and the table fits a phone
        expect(page.get_by_role("cell", name="$LAB_VERSION")).to_be_visible()
        fits = page.evaluate(
            """[...document.querySelectorAll("article table")]
                 .every(t => t.getBoundingClientRect().right <= document.documentElement.clientWidth)"""
        )
        assert fits, "a table of the exercise page runs off a 390 px screen"
    finally:
        watched.close()


def test_the_finish_page_table_fits_a_phone(browser: Any, site_url: str) -> None:
    watched = Watched(browser, site_url, 390)
    try:
        watched.page.goto(site_url + "lab/")
        widths = watched.page.evaluate(
            """[...document.querySelectorAll("article table")].map(t => [t.scrollWidth, t.parentElement.clientWidth])"""
        )
        assert widths and all(table <= box for table, box in widths), widths
    finally:
        watched.close()


def test_search_finds_lessons_offline(browser: Any, site_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    watched = Watched(browser, site_url, 1280)
    page = watched.page
    try:
        page.goto(site_url)
        page.locator("input.md-search__input").click()
        page.keyboard.type("digest")
        results = page.locator(".md-search-result__item")
        sync_api.expect(results.first).to_be_visible(timeout=15_000)
        assert results.count() > 0
    finally:
        watched.close()
    assert not watched.errors and not watched.foreign
