"""The reporter interface."""

from __future__ import annotations

from abc import ABC, abstractmethod

from labcheck.results import LabResult


class Reporter(ABC):
    """Turns a LabResult into the text of one report."""

    @abstractmethod
    def render(self, result: LabResult) -> str:
        """The whole report, ending with a newline."""
