"""The course site that travels with labcheck, served on this machine (`labcheck docs`).

A wheel built with `make wheel` carries the built site at `labcheck/_data/site`; a clone of
the repository has it in `public/` after `make site`. The server is the standard library's,
bound to 127.0.0.1 only, and serves nothing but those files: the site needs no other host.

The site is built for one address (mkdocs' `site_url`, http://127.0.0.1:8000/ by default), and
Material's instant navigation only follows links its `sitemap.xml` lists. Served elsewhere, the
sitemap's addresses are rewritten to where the server really is, so navigation stays instant.
"""

from __future__ import annotations

import errno
import functools
import re
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from labcheck.errors import PortInUse, SiteMissing, UsageError

#: Where a built site is looked for: inside the installed package, then a checkout's `make site`.
PACKAGED_SITE = Path(__file__).resolve().parent / "_data" / "site"
CHECKOUT_SITE = Path(__file__).resolve().parents[2] / "public"
DEFAULT_PORT = 8000
_LOC = re.compile(r"<loc>([^<]*)</loc>")


def is_site(folder: Path) -> bool:
    """Whether `folder` holds a built site (its home page and its sitemap)."""
    return (folder / "index.html").is_file() and (folder / "sitemap.xml").is_file()


def find_site(folder: Path | None = None, candidates: tuple[Path, ...] = (PACKAGED_SITE, CHECKOUT_SITE)) -> Path:
    """`folder` when it holds a built site (else a usage error); without it, the first built
    site among the candidates, or SiteMissing saying how to get one."""
    if folder is not None:
        if not is_site(folder):
            raise UsageError(
                f"{folder} is not a built site (it has no index.html and sitemap.xml)",
                tip="give the folder `mkdocs build` wrote (site_dir)",
            )
        return folder
    for candidate in candidates:
        if is_site(candidate):
            return candidate
    raise SiteMissing(
        "this labcheck was installed without the course site",
        tip="install a wheel built with `make wheel` (it builds the site first); in a clone of labcheck, "
        "`make site` builds it into public/, which `labcheck docs` then serves",
    )


def rebase_sitemap(sitemap: str, base_url: str) -> str:
    """The sitemap with the address the site was built for replaced by `base_url`."""
    locations = _LOC.findall(sitemap)
    if not locations:
        return sitemap
    built_for = min(locations, key=len)  # the home page: every other page is below it
    if not built_for.endswith("/"):
        built_for = built_for.rsplit("/", 1)[0] + "/"
    return _LOC.sub(lambda m: f"<loc>{base_url}{m.group(1).removeprefix(built_for)}</loc>", sitemap)


class _Handler(SimpleHTTPRequestHandler):
    """Static files of one folder; the sitemap rebased; the site's own 404 page."""

    base_url = ""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/sitemap.xml":
            self._send_sitemap()
            return
        super().do_GET()

    def _send_sitemap(self) -> None:
        text = (Path(self.directory) / "sitemap.xml").read_text(encoding="utf-8")
        body = rebase_sitemap(text, self.base_url).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal is the learner's, not a server log."""


class SiteServer:
    """A built site served on 127.0.0.1:`port` (0: any free port) until closed.

    Use as a context manager; `serve_forever()` blocks until `close()` (from another thread)
    or Ctrl-C, and the socket is closed on the way out either way.
    """

    def __init__(self, root: Path, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
        self.root = root
        try:
            self._server = ThreadingHTTPServer((host, port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use", tip="pick another: --port 8100 (or --port 0: any)"
                ) from exc
            raise
        self._server.daemon_threads = True
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}/"
        handler = type("SiteHandler", (_Handler,), {"base_url": self.url})
        self._server.RequestHandlerClass = functools.partial(handler, directory=str(root))
        self._serving = threading.Event()

    def serve_forever(self) -> None:
        """Answer requests until `close()` is called from another thread (or Ctrl-C)."""
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving.clear()

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._serving.is_set():
            self._server.shutdown()  # returns once serve_forever, in another thread, has stopped
        self._server.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
