"""Hatch build hook: the built course site goes into the wheel, when there is one.

`make wheel` builds the site (`mkdocs build --strict` into public/, gitignored) before the
sdist and the wheel; the sdist carries public/ and the wheel built from it puts the site at
labcheck/_data/site, where `labcheck docs` serves it. A wheel built without a site (plain
`python -m build` in a fresh clone) still builds; its `labcheck docs` says how to get one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SITE = "public"  # mkdocs.yml's site_dir
IN_WHEEL = "labcheck/_data/site"


class CourseSiteHook(BuildHookInterface):
    """Force-include the built site into the wheel when public/ holds one."""

    PLUGIN_NAME = "course-site"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        site = Path(self.root) / SITE
        if (site / "index.html").is_file() and (site / "sitemap.xml").is_file():
            build_data["force_include"][str(site)] = IN_WHEEL
