"""Lab specs: the real one loads; broken ones name the file, the key path and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labcheck.errors import SpecError
from labcheck.session import load_lab
from labcheck.spec.loader import lab_path
from labcheck.spec.render import example_context, render_lab

REAL = lab_path("part7")


def test_part7_loads_with_every_exercise_the_issue_fixes() -> None:
    spec = load_lab("part7")
    assert [e.id for e in spec.exercises] == [
        "local-registry",
        "hub-publish",
        "semver-latest",
        "pull-by-version",
        "git-sha",
        "promote",
        "rollback",
        "ecr",
        "ecr-lifecycle",
        "multi-platform",
    ]
    assert [e.id for e in spec.exercises if e.requires] == ["multi-platform"]
    assert spec.services["registry"].port == 5000
    assert spec.services["hub"].auth == "htpasswd"
    assert spec.services["ecr-api"].kind == "ecr-api"
    assert spec.services["ecr"].auth == "ecr-token"
    assert spec.services["ecr"].login_user == "AWS"
    assert spec.services["ecr-api"].token_lifetime == 12 * 3600
    assert spec.services["ecr-api"].api_image.startswith("motoserver/moto:")


def test_rendering_fills_addresses_and_namespace() -> None:
    spec = load_lab("part7")
    rendered = render_lab(spec, example_context(spec))
    hub = rendered.exercise("hub-publish")
    assert hub is not None
    assert hub.checks[0].args["repository"] == "learner/my-app"
    assert "localhost:5001/learner/my-app:v1.0.0" in hub.instructions
    assert hub.checks[0].title == "learner/my-app:latest is on the hub"


def _broken(tmp_path: Path, mutate: object) -> Path:
    data = yaml.safe_load(REAL.read_text())
    if callable(mutate):
        mutate(data)
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data) if callable(mutate) else str(mutate))
    return path


def _set(path: str, value: object) -> object:
    def mutate(data: dict[str, object]) -> None:
        node: object = data
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]  # type: ignore[index]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value  # type: ignore[index]

    return mutate


def _delete(path: str) -> object:
    def mutate(data: dict[str, object]) -> None:
        node: object = data
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]  # type: ignore[index]
        del node[keys[-1]]  # type: ignore[attr-defined]

    return mutate


BAD = [
    ("malformed yaml", "schema_version: 1\nid: [part7\n", "invalid YAML"),
    ("not a mapping", "- 1\n- 2\n", "expected a mapping"),
    ("empty file", "", "expected a mapping"),
    ("wrong schema version", _set("schema_version", 2), "schema_version"),
    ("unknown top-level key", _set("colour", "blue"), "colour: unknown key"),
    ("missing services", _delete("services"), "services: required key is missing"),
    ("unknown service key", _set("services.hub.passwd", "x"), "services.hub.passwd: unknown key"),
    ("port as text", _set("services.registry.port", "five"), "services.registry.port"),
    ("port out of range", _set("services.registry.port", 70000), "services.registry.port"),
    ("auth without username", _delete("services.hub.username"), "needs a username"),
    ("same port twice", _set("services.hub.port", 5000), "same port"),
    ("bad exercise id", _set("exercises.0.id", "Local Registry"), "exercises.0.id"),
    ("duplicate exercise", _set("exercises.1.id", "local-registry"), "used twice"),
    ("no checks", _set("exercises.0.checks", []), "exercises.0.checks"),
    ("unknown check key", _set("exercises.0.checks.0.weight", 3), "exercises.0.checks.0.weight: unknown key"),
    ("points as text", _set("exercises.0.checks.0.points", "many"), "exercises.0.checks.0.points"),
    ("negative points", _set("exercises.0.checks.0.points", -1), "exercises.0.checks.0.points"),
    ("unknown kind", _set("exercises.0.checks.0.kind", "tag_exist"), "unknown check kind 'tag_exist'"),
    ("unknown arg", _set("exercises.0.checks.0.args.colour", "x"), "args.colour: unknown key"),
    ("missing arg", _delete("exercises.0.checks.0.args.tag"), "args.tag"),
    ("unknown service in args", _set("exercises.0.checks.0.args.service", "quay"), "unknown service 'quay'"),
    ("invalid repository", _set("exercises.0.checks.0.args.repository", "My App"), "args.repository"),
    ("non-semver tag", _set("exercises.2.checks.0.args.tag", "v1.0"), "not a semantic version"),
    ("jinja syntax error", _set("exercises.0.summary", "{{ registry "), "template error"),
    ("undefined jinja name", _set("exercises.0.checks.0.args.tag", "{{ nope }}"), "'nope' is undefined"),
    ("bad parameter name", _set("parameters.Bad-Name", "x"), "parameter name"),
    ("unknown capability", _set("exercises.0.requires", ["gpu"]), "exercises.0.requires.0"),
    ("platform without os", _set("exercises.9.checks.1.args.platforms", ["arm64"]), "args.platforms.0"),
    ("token lifetime on a registry", _set("services.hub.token_lifetime", 60), "only meaningful for kind: ecr-api"),
    ("zero token lifetime", _set("services.ecr-api.token_lifetime", 0), "services.ecr-api.token_lifetime"),
    (
        "two registries on one ECR API",
        _set(
            "services.registry",
            {"description": "x", "port": 5009, "env_var": "X_REGISTRY", "auth": "ecr-token", "token_from": "ecr-api"},
        ),
        "an ECR API has one registry",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "expected"), BAD, ids=[b[0] for b in BAD])
def test_broken_specs_name_file_key_and_problem(tmp_path: Path, name: str, mutate: object, expected: str) -> None:
    path = _broken(tmp_path, mutate)
    with pytest.raises(SpecError) as info:
        load_lab(str(path))
    message = info.value.message
    assert str(path) in message
    assert expected in message
    assert "\n" not in message
    assert info.value.exit_code == 2
