"""`labcheck class ...`: run a workshop: one shared registry, login cards, the class report."""

from __future__ import annotations

import click


@click.group("class")
def class_group() -> None:
    """Run a workshop: one shared registry for the room, a login per learner, a live scoreboard.

    \b
    labcheck class up part7 --roster roster.csv [--host ADDR] [--port N]
    labcheck class cards                 the login cards again (passwords included)
    labcheck class report [--watch] [results/*.json]
    labcheck class down
    """
