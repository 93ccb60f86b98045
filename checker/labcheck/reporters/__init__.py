"""Reporters render a LabResult: text for terminals, JSON for tools, JUnit XML for CI."""

from __future__ import annotations

from labcheck.reporters.base import Reporter


def reporter_for(fmt: str, *, color: bool = False) -> Reporter:
    """The reporter for a --format value (text, json, junit)."""
    if fmt == "json":
        from labcheck.reporters.json import JsonReporter

        return JsonReporter()
    if fmt == "junit":
        from labcheck.reporters.junit import JunitReporter

        return JunitReporter()
    from labcheck.reporters.text import TextReporter

    return TextReporter(color=color)


__all__ = ["Reporter", "reporter_for"]
