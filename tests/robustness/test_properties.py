"""Property-based tests: whatever a spec file or a registry says, labcheck fails with its own errors.

The lab-spec loader may only raise SpecError (or UsageError for a missing lab); the registry
response parsers may only return a value or raise RegistryProtocolError. Anything else would
reach the learner as "internal error".
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from labcheck.errors import RegistryProtocolError, SpecError
from labcheck.registry import Manifest, parse_challenge
from labcheck.registry.client import RegistryClient
from labcheck.registry.manifests import Descriptor, ImageConfig
from labcheck.registry.responses import describe_errors, error_codes, retry_after
from labcheck.session import load_lab

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON-ish values, and YAML documents built from them plus raw text with YAML's special characters
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
SPEC_KEYS = ["schema_version", "id", "title", "services", "exercises", "parameters", "checks", "kind", "args", "port"]
spec_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(SPEC_KEYS), inner, max_size=5),
    max_leaves=25,
)
yaml_noise = st.text(alphabet=st.sampled_from(list("ab:-[]{}!&*|>'\"#%@`\n\t 0123456789.{}")), max_size=80)


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(SpecError):
        load_lab(str(path))


@SETTINGS
@given(doc=spec_like)
def test_spec_loader_raises_only_spec_errors_on_structured_documents(tmp_path: Path, doc: object) -> None:
    _load(tmp_path, yaml.safe_dump(doc))


@SETTINGS
@given(text=yaml_noise)
def test_spec_loader_raises_only_spec_errors_on_yaml_noise(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text)


@SETTINGS
@given(
    port=scalars,
    kind=st.sampled_from(["tag_exists", "same_image", "nope"]) | st.text(max_size=8),
    args=json_values,
    template=st.text(alphabet=st.sampled_from(list("{}%#abc _.()'|")), max_size=30),
)
def test_spec_loader_on_nearly_valid_labs(tmp_path: Path, port: object, kind: str, args: object, template: str) -> None:
    doc = {
        "schema_version": 1,
        "id": "lab",
        "title": template,
        "parameters": {"app": template},
        "services": {"registry": {"description": "r", "port": port, "env_var": "REGISTRY"}},
        "exercises": [
            {
                "id": "ex",
                "title": "t",
                "summary": template,
                "checks": [{"id": "c", "title": "c", "kind": kind, "args": args}],
            }
        ],
    }
    _load(tmp_path, yaml.safe_dump(doc))


@SETTINGS
@given(header=st.text(max_size=120))
def test_challenge_parser(header: str) -> None:
    try:
        challenge = parse_challenge(header)
    except RegistryProtocolError:
        return
    assert challenge.scheme
    assert all(key == key.lower() for key in challenge.params)


@SETTINGS
@given(realm=st.text(max_size=30).filter(lambda s: '"' not in s and "\\" not in s), scope=st.text(max_size=30))
def test_challenge_round_trip(realm: str, scope: str) -> None:
    quoted_scope = scope.replace("\\", "\\\\").replace('"', '\\"')
    challenge = parse_challenge(f'Bearer realm="{realm}",scope="{quoted_scope}"')
    assert (challenge.scheme, challenge.realm, challenge.scope) == ("Bearer", realm, scope)


@SETTINGS
@given(link=st.text(max_size=120))
def test_link_header(link: str) -> None:
    client = RegistryClient("127.0.0.1:5999", insecure=True)
    current = httpx.URL("http://127.0.0.1:5999/v2/x/tags/list?n=1000")
    response = httpx.Response(200, headers={"Link": link.encode("utf-8")})
    try:
        url = client._next_link(response, current)
    except RegistryProtocolError:  # a link that is not a URL too: never httpx.InvalidURL
        return
    finally:
        client.close()
    if url is not None:
        assert (url.scheme, url.host, url.port) == ("http", "127.0.0.1", 5999)


@SETTINGS
@given(body=json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=60))
def test_error_bodies(body: bytes) -> None:
    assert isinstance(describe_errors(body), str)
    assert isinstance(error_codes(body), set)


@SETTINGS
@example(value="²")  # str.isdigit() says yes, float() says no
@given(value=st.text(max_size=40))
def test_retry_after(value: str) -> None:
    response = httpx.Response(429, headers={"Retry-After": value.encode("utf-8")})
    seconds = retry_after(response)
    assert seconds is None or 0 <= seconds <= 60


def _parse_manifest(data: object) -> None:
    raw = json.dumps(data).encode()
    manifest = Manifest(media_type="", digest="sha256:x", raw=raw, data=data if isinstance(data, dict) else {})
    manifest.is_index  # noqa: B018 - the properties are what is under test
    manifest.config_digest  # noqa: B018
    manifest.layers  # noqa: B018
    manifest.platform_children()


manifest_like = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": scalars,
        "mediaType": st.sampled_from(
            ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", ""]
        )
        | st.text(max_size=5),
        "config": json_values,
        "layers": json_values,
        "manifests": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "digest": scalars,
                    "size": scalars,
                    "platform": json_values,
                    "annotations": json_values,
                    "mediaType": scalars,
                },
            ),
            max_size=3,
        )
        | json_values,
    },
)


@SETTINGS
@given(data=manifest_like)
def test_manifest_parsing(data: dict[str, object]) -> None:
    with contextlib.suppress(RegistryProtocolError):
        _parse_manifest(data)


@SETTINGS
@given(data=json_values)
def test_descriptor_and_config_parsing(data: object) -> None:
    for parse in (lambda: Descriptor.from_json(data, "x"), lambda: ImageConfig.from_json("sha256:x", data)):
        with contextlib.suppress(RegistryProtocolError):
            parse()


def test_a_yaml_date_that_is_no_date_is_a_spec_error(tmp_path: Path) -> None:
    # found by the properties above: PyYAML raises ValueError, not YAMLError, for it
    with pytest.raises(SpecError, match="invalid YAML"):
        _load_strict(tmp_path, "schema_version: 1\nid: 2026-02-30\n")


def _load_strict(tmp_path: Path, text: str) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(text, encoding="utf-8")
    load_lab(str(path))
