"""`labcheck docs`: the course site, served on this machine."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--site",
    "site_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Serve this built site (mkdocs build's output) instead of the one installed with labcheck.",
)
def docs(port: int, site_dir: Path | None) -> None:
    """Serve the course site on 127.0.0.1, offline: lessons, exercises, hints. Ctrl-C stops."""
    from labcheck.docs import SiteServer, find_site

    root = find_site(site_dir)
    with SiteServer(root, port) as server:
        click.echo(f"the course site: {server.url}  (open it in your browser; Ctrl-C stops)")
        server.serve_forever()
