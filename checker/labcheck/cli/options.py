"""Options and parameter parsers shared by several commands."""

from __future__ import annotations

from collections.abc import Sequence

import click


def parse_ports(values: Sequence[str]) -> dict[str, int]:
    """`--port SERVICE=PORT` values (a bare PORT is the registry's) as {service: port}."""
    ports: dict[str, int] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        name = name if sep else "registry"
        if not number.isdigit() or not 1 <= int(number) <= 65535:
            raise click.BadParameter(f"{value!r}: expected SERVICE=PORT, e.g. registry=5002", param_hint="--port")
        ports[name] = int(number)
    return ports


port_option = click.option(
    "--port", "ports", multiple=True, metavar="SERVICE=PORT", help="Host port for a service (repeatable)."
)

learner_option = click.option(
    "--learner",
    default=None,
    metavar="ID",
    help="A workshop learner's id: their own values (versions, app name) instead of the lab's defaults.",
)

instance_option = click.option(
    "--instance",
    default=None,
    metavar="NAME",
    help="Lab instance (default: the lab's id); run several copies of a lab side by side.",
)


def check_exposure(host: str, expose: bool, *, what: str, reachable: str, stays: str, tip: str) -> None:
    """A --host beyond loopback needs --expose (UsageError otherwise), and then a warning that
    names what other machines reach (`reachable`) and what stays on 127.0.0.1 (`stays`)."""
    from labcheck.errors import UsageError
    from labcheck.http_transport import is_loopback

    if is_loopback(host):
        return
    if not expose:
        raise UsageError(f"--host {host} would publish {what} beyond this machine", tip=tip)
    click.echo(
        f"labcheck: warning: --expose: on {host} other machines reach {reachable}, over plain HTTP; "
        f"{stays} stays on 127.0.0.1",
        err=True,
    )
