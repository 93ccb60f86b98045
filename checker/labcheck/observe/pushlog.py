"""Observe who pushed what to a lab registry, from the registry's own log.

registry:2 logs every request it completed (logrus text format). A manifest PUT answered
201 is a push of that reference; who pushed is read as `parse_push_log` explains.
"""

from __future__ import annotations

import re
from datetime import datetime

from labcheck.errors import DockerUnavailable
from labcheck.observe.engine_api import EngineApi, EngineApiError
from labcheck.observe.model import Push, PushLog, Unavailable

_PAIR = re.compile(r'(?P<key>[\w.]+)=(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>\S*))')
_MANIFEST_URI = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/?]+)")


def parse_push_log(text: str, sole_user: str | None = None) -> PushLog:
    """The manifest pushes of a registry:2 log, oldest first.

    registry 2.8 names the user (`auth.user.name`) only on error lines; a success shows as
    "authorized request" then "response completed". When the registry's htpasswd holds one
    user (`sole_user`, as in the lab's registries), an authorized request was that user's.
    """
    requests: dict[str, dict[str, str]] = {}
    authorized: set[str] = set()
    users: dict[str, str] = {}
    for line in text.splitlines():
        if "manifests" not in line or "http.request.id=" not in line:
            continue
        fields = {m["key"]: (m["quoted"] if m["quoted"] is not None else m["bare"]) for m in _PAIR.finditer(line)}
        rid = fields.get("http.request.id", "")
        if fields.get("auth.user.name"):
            users[rid] = fields["auth.user.name"]
        if fields.get("msg") == "authorized request":
            authorized.add(rid)
        elif fields.get("msg") == "response completed":
            requests[rid] = fields
    pushes = []
    for rid, fields in requests.items():
        if fields.get("http.request.method") != "PUT" or fields.get("http.response.status") != "201":
            continue
        uri = _MANIFEST_URI.match(fields.get("http.request.uri", ""))
        if uri is None:
            continue
        user = users.get(rid) or (sole_user if rid in authorized else None)
        pushes.append(
            Push(repository=uri["name"], reference=uri["ref"], user=user, time=_epoch(fields.get("time", "")))
        )
    return PushLog(pushes=tuple(sorted(pushes, key=lambda p: p.time)))


def _epoch(stamp: str) -> float:
    # Go prints nanoseconds; Python's fromisoformat takes up to microseconds.
    m = re.match(r"^(?P<head>[\d-]+T[\d:]+)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-][\d:]+)$", stamp)
    if m is None:
        return 0.0
    frac = (m["frac"] or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m["tz"] == "Z" else m["tz"]
    return datetime.fromisoformat(f"{m['head']}.{frac}{tz}").timestamp()


def observe_push_log(
    api: EngineApi, container_id: str | None, host: str, sole_user: str | None = None
) -> PushLog | Unavailable:
    """The pushes a lab registry container logged; Unavailable for registries we did not start."""
    if not container_id:
        return Unavailable(f"the log of {host} is not readable: only the lab's own registries can show who pushed")
    try:
        text = api.container_log(container_id)
    except DockerUnavailable as exc:
        return Unavailable(exc.message)
    except EngineApiError as exc:
        return Unavailable(f"cannot read the log of {host} from Docker: {exc}")
    return parse_push_log(text, sole_user)
