"""Login cards: what each learner needs to start, printed and as one self-contained HTML page.

A card holds the learner's password: cards are shown to the instructor who asked for them
(`class up`, `class cards`) and written to a file only they can read.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from labcheck.classroom.state import ClassLogin, ClassState
from labcheck.classroom.templating import render_template
from labcheck.spec.model import LabSpec


@dataclass(frozen=True)
class Card:
    learner: str
    name: str
    email: str
    registry: str
    password: str
    commands: tuple[str, ...]


def card_for(spec: LabSpec, state: ClassState, login: ClassLogin) -> Card:
    prefix = spec.services[state.service].env_var.removesuffix("_REGISTRY")
    env_var = spec.services[state.service].env_var
    commands = (
        f"export {env_var}={state.learner_address} {prefix}_USERNAME={login.user} "
        f"{prefix}_PASSWORD={shlex.quote(login.password)}",
        f'echo "${prefix}_PASSWORD" | docker login "${env_var}" -u "${prefix}_USERNAME" --password-stdin',
        f"labcheck instructions {spec.id} --learner {login.user} --class-registry {state.learner_address}",
    )
    return Card(login.user, login.name, login.email, state.learner_address, login.password, commands)


def cards(spec: LabSpec, state: ClassState) -> list[Card]:
    return [card_for(spec, state, lg) for lg in state.learners]


def card_text(card: Card) -> str:
    who = " ".join(p for p in (card.name, f"<{card.email}>" if card.email else "") if p)
    lines = [
        f"--- {card.learner}{f' ({who})' if who else ''} ---",
        f"registry: {card.registry}",
        f"user:     {card.learner}",
        f"password: {card.password}",
        "start:",
        *(f"  {c}" for c in card.commands),
    ]
    return "\n".join(lines) + "\n"


def cards_html(spec: LabSpec, state: ClassState) -> str:
    """One page, a card per learner, ready to print and cut (inline CSS, no scripts)."""
    return render_template("cards.html.j2", spec=spec, state=state, cards=cards(spec, state))
