"""Under CI, a skipped test fails the run unless its reason is allowed for the machine.

A skip says "this was not tested"; on CI that must be a decision, not an accident (a tool
missing, a timing race, an import that failed). With CI=true (or 1, yes) every skip, xfail
and skipped module is checked against tests/allowed-skips.txt (or $LABCHECK_ALLOWED_SKIPS):
one regular expression per line, searched in the skip's reason, each followed by
`  # why it is allowed`. A skip no entry allows makes the session fail, listing them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ALLOWED_FILE = Path(__file__).with_name("allowed-skips.txt")


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def read_allowed(path: Path) -> list[re.Pattern[str]]:
    """The allowed reasons; a UsageError for an entry that does not say why it is allowed."""
    allowed = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, sep, why = line.partition("  # ")
        if not sep or not why.strip():
            raise pytest.UsageError(f"{path}:{number}: say why this skip is allowed: `PATTERN  # why`")
        allowed.append(re.compile(pattern.strip()))
    return allowed


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(getattr(report, "wasxfail", "") or longrepr)


@dataclass(eq=False)  # pluggy keeps plugins in a set
class SkipGuard:
    allowed: list[re.Pattern[str]]
    source: Path
    refused: list[tuple[str, str]] = field(default_factory=list)

    def _check(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped:
            reason = _reason(report)
            if not any(p.search(reason) for p in self.allowed):
                self.refused.append((report.nodeid, reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._check(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._check(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.refused and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.refused:
            return
        terminalreporter.section("skipped on CI without leave", sep="=", red=True, bold=True)
        for nodeid, reason in self.refused:
            terminalreporter.line(f"{nodeid}: {reason}")
        terminalreporter.line(f"CI=true: a skip fails the run unless {self.source} allows its reason (and says why)")


def pytest_configure(config: pytest.Config) -> None:
    if on_ci():
        source = Path(os.environ.get("LABCHECK_ALLOWED_SKIPS") or ALLOWED_FILE)
        config.pluginmanager.register(SkipGuard(read_allowed(source), source), "labcheck-ci-skip-guard")
