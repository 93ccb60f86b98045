"""registry:2's log lines as registry 2.8 writes them, read into pushes (no Docker needed)."""

from __future__ import annotations

from labcheck.observe.pushlog import parse_push_log

UA = 'http.request.useragent="docker/20.10.24 UpstreamClient(Docker-Client/28.2.2 \\\\(linux\\\\))"'


def _line(msg: str, rid: str, method: str, uri: str, extra: str = "", when: str = "17:43:11.018346287") -> str:
    return (
        f'time="2026-11-27T{when}Z" level=info msg="{msg}" {extra}go.version=go1.19.8 '
        f'http.request.host="localhost:5002" http.request.id={rid} http.request.method={method} '
        f'http.request.remoteaddr="172.17.0.1:37966" http.request.uri={uri} {UA} vars.name=my-app'
    )


def test_an_authorized_manifest_put_is_a_push_by_the_sole_user() -> None:
    log = "\n".join(
        [
            _line("authorized request", "r1", "PUT", "/v2/my-app/manifests/1.0.0"),
            _line("response completed", "r1", "PUT", "/v2/my-app/manifests/1.0.0")
            + " http.response.status=201 http.response.written=0",
            '172.17.0.1 - - [27/Nov/2026:17:43:11 +0000] "PUT /v2/my-app/manifests/1.0.0 HTTP/1.1" 201 0 "" ""',
            # a blob upload and a failed manifest GET are not pushes
            _line("response completed", "r2", "PUT", "/v2/my-app/blobs/uploads/x") + " http.response.status=201",
            _line("response completed with error", "r3", "GET", "/v2/other/manifests/1", "auth.user.name=AWS ")
            + " http.response.status=404",
        ]
    )
    pushes = parse_push_log(log, sole_user="AWS").pushes
    assert [(p.repository, p.reference, p.user) for p in pushes] == [("my-app", "1.0.0", "AWS")]
    assert abs(pushes[0].time - 1795801391.018346) < 1e-3
    # without knowing the registry's only user, an authorized push has no name
    assert parse_push_log(log).pushes[0].user is None


def test_a_named_user_wins_and_unauthorized_pushes_are_anonymous() -> None:
    log = "\n".join(
        [
            _line("authorized request", "a", "PUT", "/v2/ns/app/manifests/v1", "auth.user.name=alice "),
            _line("response completed", "a", "PUT", "/v2/ns/app/manifests/v1", when="17:43:12.5")
            + " http.response.status=201",
            _line("response completed", "b", "PUT", "/v2/ns/app/manifests/v2", when="17:43:13.0")
            + " http.response.status=201",
        ]
    )
    pushes = parse_push_log(log, sole_user="AWS").pushes
    assert [(p.repository, p.reference, p.user) for p in pushes] == [("ns/app", "v1", "alice"), ("ns/app", "v2", None)]
