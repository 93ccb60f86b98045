"""`labcheck doctor`: can this machine run the lab? One line per prerequisite, with the fix."""

from __future__ import annotations

import json
import sys

import click

from labcheck.cli.options import instance_option, parse_ports, port_option


@click.command()
@click.argument("lab", default="part7")
@port_option
@instance_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
def doctor(lab: str, ports: tuple[str, ...], instance: str | None, fmt: str) -> None:
    """Check that this machine can run LAB (default part7): exit 0 when it can, 1 when not."""
    from labcheck.doctor import Level, diagnose
    from labcheck.environment.lab import check_distinct_ports
    from labcheck.errors import UsageError
    from labcheck.session import load_lab

    spec = load_lab(lab)
    chosen = parse_ports(ports)
    unknown = sorted(set(chosen) - set(spec.services))
    if unknown:
        raise UsageError(f"--port names unknown service {unknown[0]!r}", tip=f"services: {', '.join(spec.services)}")
    check_distinct_ports(spec, chosen)
    diagnosis = diagnose(spec, chosen, instance)
    if fmt == "json":
        report = {
            "schema": 1,
            "lab": diagnosis.lab,
            "ready": diagnosis.ready,
            "checks": [
                {"id": f.id, "title": f.title, "status": f.level.value, "detail": f.detail, "fix": f.fix}
                for f in diagnosis.findings
            ],
        }
        click.echo(json.dumps(report, indent=2))
        sys.exit(diagnosis.exit_code)
    color = sys.stdout.isatty()
    styles = {Level.OK: ("ok", "green"), Level.WARN: ("warn", "yellow"), Level.FAIL: ("FAIL", "red")}
    width = max(len(f.title) for f in diagnosis.findings)
    click.echo(f"labcheck doctor: can this machine run {spec.id} ({spec.title})?")
    for f in diagnosis.findings:
        word, fg = styles[f.level]
        mark = click.style(f"{word:<4}", fg=fg, bold=f.level is Level.FAIL) if color else f"{word:<4}"
        click.echo(f"  {mark}  {f.title:<{width}}  {f.detail}")
        if f.fix:
            click.echo(f"  {'':<4}  {'':<{width}}  fix: {f.fix}")
    failed = [f for f in diagnosis.findings if f.level is Level.FAIL]
    warned = [f for f in diagnosis.findings if f.level is Level.WARN]
    if failed:
        click.echo(f"\nnot ready: {len(failed)} problem(s) to fix first ({', '.join(f.title for f in failed)})")
    else:
        note = f" ({len(warned)} warning(s) above)" if warned else ""
        click.echo(f"\nready: start the lab with `labcheck up {spec.id}`{note}")
    sys.exit(diagnosis.exit_code)
