"""`labcheck docs`: the course site served on 127.0.0.1, found in the install or a checkout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from installed import labcheck_argv
from labcheck.docs import SiteServer, find_site, rebase_sitemap
from labcheck.environment.services import free_port
from labcheck.errors import PortInUse, SiteMissing, UsageError

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>http://127.0.0.1:8000/</loc></url>
    <url><loc>http://127.0.0.1:8000/lessons/docker-hub/</loc></url>
</urlset>
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "lessons" / "docker-hub").mkdir(parents=True)
    (root / "index.html").write_text("<h1>Part 7</h1>")
    (root / "lessons" / "docker-hub" / "index.html").write_text("<h1>Docker Hub</h1>")
    (root / "404.html").write_text("<h1>Not here</h1>")
    (root / "sitemap.xml").write_text(SITEMAP)
    return root


@pytest.fixture
def served(site: Path) -> Iterator[SiteServer]:
    server = SiteServer(site, port=0)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_site_is_served_on_loopback(served: SiteServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)
    assert httpx.get(served.url).text == "<h1>Part 7</h1>"
    assert httpx.get(f"{served.url}lessons/docker-hub/").text == "<h1>Docker Hub</h1>"
    missing = httpx.get(f"{served.url}nope/")
    assert missing.status_code == 404 and missing.text == "<h1>Not here</h1>"  # the site's own 404 page


def test_the_sitemap_names_where_the_site_really_is(served: SiteServer) -> None:
    # Material's instant navigation follows only links the sitemap lists, host and port included
    sitemap = httpx.get(f"{served.url}sitemap.xml").text
    assert f"<loc>{served.url}</loc>" in sitemap
    assert f"<loc>{served.url}lessons/docker-hub/</loc>" in sitemap
    assert "8000" not in sitemap


def test_rebase_sitemap_keeps_the_paths_below_the_built_address() -> None:
    pages = SITEMAP.replace("http://127.0.0.1:8000/", "https://example.github.io/labcheck/")
    rebased = rebase_sitemap(pages, "http://127.0.0.1:9000/")
    assert "<loc>http://127.0.0.1:9000/lessons/docker-hub/</loc>" in rebased
    assert "example.github.io" not in rebased
    assert rebase_sitemap("<urlset/>", "http://x/") == "<urlset/>"


def test_a_busy_port_is_a_clear_error(served: SiteServer, site: Path) -> None:
    port = int(served.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use") as info:
        SiteServer(site, port=port)
    assert "--port" in info.value.tip


def test_without_a_built_site_labcheck_says_how_to_get_one(tmp_path: Path, site: Path) -> None:
    with pytest.raises(SiteMissing) as info:
        find_site(candidates=(tmp_path / "a", tmp_path / "b"))
    assert "make wheel" in info.value.tip and "make site" in info.value.tip
    assert find_site(candidates=(tmp_path / "a", site)) == site
    assert find_site(site) == site
    with pytest.raises(UsageError, match="is not a built site"):
        find_site(tmp_path)


def test_labcheck_docs_serves_until_ctrl_c(site: Path) -> None:
    port = free_port()
    argv = [*labcheck_argv(), "docs", "--site", str(site), "--port", str(port)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith(f"the course site: http://127.0.0.1:{port}/"), line
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err
    with pytest.raises(httpx.ConnectError):  # nothing left listening
        httpx.get(f"http://127.0.0.1:{port}/")


def test_the_wheel_carries_the_site() -> None:
    wheel = os.environ.get("LABCHECK_WHEEL")
    if not wheel:
        pytest.skip("LABCHECK_WHEEL is not set: `make test` builds the wheel (site included) and sets it")
    names = set(zipfile.ZipFile(wheel).namelist())
    for page in ("index.html", "sitemap.xml", "lessons/docker-hub/index.html", "lab/hub-publish/index.html"):
        assert f"labcheck/_data/site/{page}" in names
    assert "labcheck/_data/site/assets/vendor/mermaid/mermaid.min.js" in names


def test_the_installed_labcheck_serves_its_own_site() -> None:
    installed = os.environ.get("LABCHECK_BIN")
    if not installed:
        pytest.skip("LABCHECK_BIN is not set: `make test` installs the wheel with pipx and sets it")
    with subprocess.Popen([installed, "docs", "--port", "0"], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[3]
            home = httpx.get(url)
            assert home.status_code == 200 and "Docker registries" in home.text
            assert httpx.get(f"{url}lab/hub-publish/").status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=10)
