"""Jinja2 rendering of a lab spec's parameters into exercises, check arguments and hints.

Rendering is sandboxed and strict: an unknown name is an error, never an empty string.
Docker's own Go templates (`{{.Repository}}`) in instructions must be wrapped in
`{% raw %}...{% endraw %}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labcheck.errors import SpecError
from labcheck.spec.model import CheckSpec, ExerciseSpec, LabSpec

if TYPE_CHECKING:
    import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    """The sandbox every template renders in; Jinja is imported only when a template needs it
    (most are plain `{{ name }}`, see _substituted), ~25 ms off a run that needs none."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@functools.lru_cache(maxsize=4096)
def _compile(text: str) -> jinja2.Template:
    """A template compiled once: a class report renders the same spec for hundreds of learners."""
    return _environment().from_string(text)


#: `{{ name }}`: most of a spec's templates are nothing else (a service's address, the app)
_PLACEHOLDER = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*) *\}\}")


def _substituted(text: str, context: Mapping[str, Any]) -> str | None:
    """`text` rendered without Jinja when it is literal text and `{{ name }}` placeholders of
    names in `context` (what Jinja would print: str of each value), else None. Compiling a
    template costs ~1.5 ms, and `labcheck run` renders a spec on every grade."""
    if any(mark in text for mark in ("\r", "{%", "{#", "\0")):  # line endings, statements, comments: Jinja's
        return None
    rest = _PLACEHOLDER.sub("\0", text)  # what is left must be literal text
    if "\0" not in rest or "{{" in rest or "{\0" in rest or "\0}" in rest:
        return None
    if any(name not in context for name in _PLACEHOLDER.findall(text)):
        return None  # Jinja says which name is undefined
    return _PLACEHOLDER.sub(lambda m: str(context[m.group(1)]), text)


def _render(text: str, context: Mapping[str, Any], where: str) -> str:
    if "{" not in text:
        return text
    fast = _substituted(text, context)
    if fast is not None:
        return fast
    import jinja2

    try:
        return _compile(text).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"{where}: template error on line {exc.lineno}: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise SpecError(f"{where}: {exc.message}", tip="use a lab parameter or service name") from exc
    except jinja2.TemplateError as exc:
        raise SpecError(f"{where}: template error: {exc}") from exc


def _render_value(value: Any, context: Mapping[str, Any], where: str) -> Any:
    if isinstance(value, str):
        return _render(value, context, where)
    if isinstance(value, list):
        return [_render_value(v, context, f"{where}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _render_value(v, context, f"{where}.{k}") for k, v in value.items()}
    return value


def template_context(
    spec: LabSpec, addresses: Mapping[str, str], usernames: Mapping[str, str], learner: str | None = None
) -> dict[str, str]:
    """Names a template may use: each service's address and username, the learner's values
    (defaults without a learner, see spec/learners.py), then the parameters.

    A service `hub` gives `hub` (its host:port) and `hub_username`; parameters are rendered
    in that context, so `namespace: "{{ hub_username }}"` works.
    """
    from labcheck.spec.learners import learner_values

    context: dict[str, str] = {}
    for name in spec.services:
        key = name.replace("-", "_")
        context[key] = addresses[name]
        if name in usernames:
            context[f"{key}_username"] = usernames[name]
    context.update(learner_values(spec, learner))
    for pname, pvalue in spec.parameters.items():
        context[pname] = _render(pvalue, context, f"parameters.{pname}")
    return context


def exports(spec: LabSpec, context: Mapping[str, Any]) -> dict[str, str]:
    """The lab's `exports`: environment variables carrying the (learner's) values."""
    return {name: _render(value, context, f"exports.{name}") for name, value in spec.exports.items()}


def render_text(text: str, context: Mapping[str, Any], where: str) -> str:
    """One template string rendered in the lab's context (e.g. a solution's expected hint)."""
    return _render(text, context, where)


def example_context(spec: LabSpec, learner: str | None = None) -> dict[str, str]:
    """The context with each service on its default port: for docs and validation."""
    addresses = {name: f"localhost:{svc.port}" for name, svc in spec.services.items()}
    usernames = {name: user for name, svc in spec.services.items() if (user := svc.login_user)}
    return template_context(spec, addresses, usernames, learner)


def render_check(check: CheckSpec, context: Mapping[str, Any], where: str) -> CheckSpec:
    """The check with its args and hint rendered."""
    return check.model_copy(
        update={
            "title": _render(check.title, context, f"{where}.title"),
            "args": _render_value(check.args, context, f"{where}.args"),
            "hint": _render(check.hint, context, f"{where}.hint"),
        }
    )


def render_lab(spec: LabSpec, context: Mapping[str, Any]) -> LabSpec:
    """The spec with every exercise's text and every check rendered in this context."""
    exercises: list[ExerciseSpec] = []
    for i, ex in enumerate(spec.exercises):
        where = f"exercises.{i}"
        checks = tuple(render_check(c, context, f"{where}.checks.{j}") for j, c in enumerate(ex.checks))
        exercises.append(
            ex.model_copy(
                update={
                    "title": _render(ex.title, context, f"{where}.title"),
                    "summary": _render(ex.summary, context, f"{where}.summary"),
                    "goal": _render(ex.goal, context, f"{where}.goal"),
                    "hints": tuple(_render(h, context, f"{where}.hints.{j}") for j, h in enumerate(ex.hints)),
                    "instructions": _render(ex.instructions, context, f"{where}.instructions"),
                    "checks": checks,
                }
            )
        )
    return spec.model_copy(update={"exercises": tuple(exercises)})


def compile_templates(spec: LabSpec, path: Path) -> LabSpec:
    """Render the whole spec once with example values, so template errors surface at load."""
    try:
        context = example_context(spec)
        exports(spec, context)
        return render_lab(spec, context)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc.message}", tip=exc.tip) from exc
