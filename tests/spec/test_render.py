"""Template rendering: the fast path for `{{ name }}` prints exactly what Jinja prints."""

from __future__ import annotations

from typing import Any

import pytest

from labcheck.errors import SpecError
from labcheck.session import load_lab
from labcheck.spec import render
from labcheck.spec.render import example_context


def _jinja(text: str, context: dict[str, Any]) -> str:
    return render._compile(text).render(context)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def test_every_template_of_the_lab_renders_as_jinja_renders_it() -> None:
    spec = load_lab("part7")
    context = example_context(spec, "learner-07")
    texts = [
        t
        for ex in spec.exercises
        for t in _strings([ex.title, ex.summary, ex.goal, list(ex.hints), ex.instructions])
        + [s for c in ex.checks for s in _strings([c.title, c.hint, c.args])]
    ] + list(spec.exports.values())
    templates = [t for t in texts if "{" in t]
    fast = [t for t in templates if render._substituted(t, context) is not None]
    assert len(fast) > len(templates) / 2, "the fast path should take most of the lab's templates"
    for text in templates:
        assert render._render(text, context, "here") == _jinja(text, context), text


@pytest.mark.parametrize(
    "text",
    [
        "{{ app }}",
        "{{app}}:{{ registry }}/x",
        "no braces { here } {{ app }}",
        "{{ app }}\n",
        "line\r\n{{ app }}\r\n",  # Jinja normalises line endings
        "{{ app | upper }}",
        "{{- app }} x",
        "{{{ app }}}",
        "{% raw %}{{.Repository}}{% endraw %} {{ app }}",
        "{# note #}{{ app }}",
        "{{ app }}{{ missing_name }}",
        "a\0b {{ app }}",
        "{{ number }}",
    ],
)
def test_edge_cases_render_as_jinja_renders_them(text: str) -> None:
    context: dict[str, Any] = {"app": "my-app", "registry": "localhost:5000", "number": 7}
    try:
        expected: str | type[Exception] = _jinja(text, context)
    except Exception:
        expected = SpecError
    if expected is SpecError:
        with pytest.raises(SpecError):
            render._render(text, context, "here")
    else:
        assert render._render(text, context, "here") == expected
