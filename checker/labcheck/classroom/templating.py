"""Jinja2 for the class pages: templates shipped in classroom/templates, HTML autoescaped."""

from __future__ import annotations

from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("labcheck.classroom", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_template(name: str, **context: Any) -> str:
    """A template of classroom/templates rendered with `context`."""
    return _ENV.get_template(name).render(**context)
