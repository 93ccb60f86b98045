"""scripts/site-commands: which blocks it finds, in which order, and how it runs a page."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "site-commands"


def _load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("site_commands", str(SCRIPT))
    spec = importlib.util.spec_from_loader("site_commands", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["site_commands"] = module  # dataclasses look their module up by name
    loader.exec_module(module)
    return module


sc = _load()

PAGE = textwrap.dedent(
    """\
    # A page

    ```bash
    echo one
    ```

    <!-- norun: needs a real Docker Hub account -->
    ```bash
    docker login
    ```

    ```text
    Login Succeeded
    ```

    === "Linux"

        <!-- norun: restarts the engine -->
        ```bash
        sudo systemctl restart docker
        ```

    === "In the lab"

        ```bash
        echo "$HUB_REGISTRY"
        ```

    ``` { .bash .annotate }
    echo four   # (1)!
    ```

    ~~~~bash
    cat <<'EOF'
    ```
    EOF
    ~~~~

    ```powershell
    $GIT_SHA = git rev-parse --short HEAD
    ```
    """
)


def test_blocks_are_found_in_page_order_with_their_lines() -> None:
    blocks = sc.extract_blocks(PAGE, "page.md")
    assert [(b.language, b.line) for b in blocks] == [
        ("bash", 3),
        ("bash", 8),
        ("text", 12),
        ("bash", 19),
        ("bash", 25),
        ("bash", 29),
        ("bash", 33),
        ("powershell", 39),
    ]


def test_norun_comment_skips_only_the_next_block() -> None:
    runnable = [b.code for b in sc.extract_blocks(PAGE, "page.md") if b.runnable]
    assert runnable == [
        "echo one\n",
        'echo "$HUB_REGISTRY"\n',  # indented under a tab, dedented
        "echo four   \n",  # the annotation marker goes, as the copy button drops it
        "cat <<'EOF'\n```\nEOF\n",  # a shorter fence inside a longer one is content
    ]
    skipped = [b for b in sc.extract_blocks(PAGE, "page.md") if b.norun]
    assert [b.norun for b in skipped] == ["needs a real Docker Hub account", "restarts the engine"]


def test_a_norun_comment_separated_by_text_does_not_apply() -> None:
    page = "<!-- norun: x -->\n\nSome text.\n\n```bash\necho hi\n```\n"
    (block,) = sc.extract_blocks(page)
    assert block.runnable


def test_every_site_page_has_closed_fences() -> None:
    for path in sorted((ROOT / "site").rglob("*.md")):
        for block in sc.extract_blocks(path.read_text(encoding="utf-8"), str(path)):
            assert block.code.count("```") % 2 == 0, f"{path}:{block.line} swallowed a fence"


def test_nav_pages_follow_mkdocs_yml() -> None:
    pages = sc.nav_pages()
    assert pages[:4] == ["index.md", "before-you-start.md", "lessons/what-is-a-registry.md", "lessons/docker-hub.md"]
    assert "lab/index.md" in pages


def test_list_prints_run_and_norun_blocks() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--list", "lessons/docker-hub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "norun  lessons/docker-hub.md:" in out
    assert "run    lessons/docker-hub.md:" in out


@pytest.fixture
def fake_labcheck(tmp_path: Path) -> str:
    """A stand-in for the labcheck CLI: `env` and `workspace` only."""
    script = tmp_path / "labcheck"
    script.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            case "$1" in
              env) echo "export REGISTRY=localhost:5000"; echo "export HUB_PASSWORD='p w'";;
              workspace) mkdir -p "$3" && echo "app" > "$3/version.txt";;
              *) exit 2;;
            esac
            """
        )
    )
    script.chmod(0o755)
    return str(script)


def _run(page: Path, labcheck: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(page)],
        capture_output=True,
        text=True,
        env={**os.environ, "LABCHECK": labcheck},
        check=False,
        timeout=60,
    )


def test_a_page_runs_in_one_shell_in_a_fresh_workspace(tmp_path: Path, fake_labcheck: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ```bash
            test -f version.txt
            GREETING="hello $REGISTRY"
            ```

            ```bash
            test "$GREETING" = "hello localhost:5000"
            test "$HUB_PASSWORD" = "p w"
            test -d "$DOCKER_CONFIG"
            ```
            """
        )
    )
    proc = _run(page, fake_labcheck)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("  ok  ") == 2


def test_the_first_failing_block_stops_the_run(tmp_path: Path, fake_labcheck: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\necho fine\n```\n\n```bash\necho broken-output\nfalse\necho never\n```\n\n"
        "```bash\necho not-reached\n```\n"
    )
    proc = _run(page, fake_labcheck)
    assert proc.returncode == 1
    assert "ok      " in proc.stdout
    assert f"FAILED  {page}:5  echo broken-output  (exit 1)" in proc.stdout
    assert "| broken-output" in proc.stdout
    assert "never" not in proc.stdout.replace("> echo never", "")
    assert "not-reached" not in proc.stdout


def test_no_lab_means_exit_3(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\ntrue\n```\n")
    proc = _run(page, "false")
    assert proc.returncode == 3
    assert "labcheck env part7" in proc.stderr


def test_directives_mark_outputs_and_run_options() -> None:
    page = textwrap.dedent(
        """\
        <!-- run: exit=0,1 free-ports=5050 -->
        ```bash
        labcheck run part7
        ```

        <!-- output -->
        ```text
        a
        ```

        === "containerd image store"

            <!-- output: containerd -->
            ```text
            b
            ```

        <!-- run: ctrl-c=5 needs=buildx store=classic -->
        ```bash
        labcheck watch part7
        ```
        """
    )
    blocks = sc.extract_blocks(page, "p.md")
    assert [b.output for b in blocks] == [None, "any", "containerd", None]
    assert blocks[0].options == sc.RunOptions(exits=(0, 1), free_ports=(5050,))
    assert blocks[3].options == sc.RunOptions(exits=(0, 130), ctrl_c=5, store="classic", needs_buildx=True)
    assert sc.outputs_of(blocks) == {1: 0, 2: 0}
    assert blocks[3].runs_on("classic", buildx=True) and not blocks[3].runs_on("classic", buildx=False)
    assert not blocks[3].runs_on("containerd")


@pytest.mark.parametrize(
    "page",
    [
        "<!-- run: sometimes -->\n```bash\ntrue\n```\n",
        "<!-- output -->\n```text\nx\n```\n",
        "```bash\nx\n```\n<!-- output: zfs -->\n```text\n```\n",
    ],
)
def test_wrong_directives_are_page_errors(page: str) -> None:
    with pytest.raises(sc.PageError):
        sc.outputs_of(sc.extract_blocks(page, "p.md"))


def test_volatile_parts_are_normalised_and_dots_match_any_lines() -> None:
    page = [
        "REPOSITORY   TAG   IMAGE ID       CREATED         SIZE",
        "hello-app    latest    0f908e49befd   11 minutes ago   3.09MB",
        "...",
        "latest: digest: sha256:" + "a" * 64 + " size: 855",
    ]
    run = [
        "REPOSITORY   TAG   IMAGE ID       CREATED         SIZE",
        "hello-app    latest    25086ad2bbb5   About an hour ago   4.15MB",
        "#1 building",
        "#2 done",
        "latest: digest: sha256:" + "b" * 64 + " size: 1149",
    ]
    assert sc.match_lines(page, run) == [0, 1, None, 4]
    # an update keeps the dots and takes every other line from the run
    assert sc.updated_lines(page, run) == [run[0], run[1], "...", run[4]]
    # what is not volatile must match: another tag is drift
    assert sc.match_lines(page, [run[0], run[1].replace("latest", "v1.0.0"), run[4]]) is None
    assert sc.updated_lines(page, run[:1]) == run[:1]  # no fit: the whole run
    assert any(line.startswith("+") for line in sc.drift(page, run[:1]))


def test_ports_are_mapped_for_the_run_and_back_for_the_page() -> None:
    ports = {5000: 7001, 5001: 7002}
    code = "docker run -d -p 5000:5000 registry:2\ncurl http://localhost:5001/v2/ 127.0.0.1:5000 --port 5000\n"
    assert sc.map_ports(code, ports) == (
        "docker run -d -p 7001:5000 registry:2\ncurl http://localhost:7002/v2/ 127.0.0.1:7001 --port 7001\n"
    )
    assert sc.unmap_ports("[localhost:7002/learner/hello-app] 127.0.0.1:7001->5000/tcp", ports) == (
        "[localhost:5001/learner/hello-app] 127.0.0.1:5000->5000/tcp"
    )
    free = sc.free_ports(3)
    assert len(set(free)) == 3 and all(5100 <= p <= 9999 for p in free)


def test_docker_progress_is_shown_as_a_terminal_ends_it() -> None:
    lines = [
        "The push refers to repository [localhost:5000/hello-app]",
        "0123456789ab: Preparing",
        "ba9876543210: Waiting",
        "0123456789ab: Pushed",
        "ba9876543210: Layer already exists",
        "latest: digest: sha256:x size: 1",
    ]
    assert sc.as_a_terminal_shows(lines) == [lines[0], lines[3], lines[4], lines[5]]


def test_sandbox_paths_and_secrets_are_not_shown(tmp_path: Path) -> None:
    sandbox = sc.Sandbox(tmp_path / "home", tmp_path / "workspace", ["bGVhcm5lcjpwIHc=", "p w"])
    text = f'stored in \'{tmp_path}/home/.docker/config.json\' {tmp_path}/workspace "auth": "bGVhcm5lcjpwIHc=" p w'
    assert sandbox.clean(text) == (
        'stored in \'/home/you/.docker/config.json\' /home/you/part7-lab "auth": "********" ********'
    )


def test_update_rewrites_the_output_blocks_in_place(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('```bash\necho hi\n```\n\n=== "t"\n\n    <!-- output -->\n    ```text\n    old\n    ```\n\nafter\n')
    blocks = sc.extract_blocks(page.read_text(), "page.md")
    run = sc.PageRun(True, {0: ["hi", "", "there"]})
    assert sc.check_outputs(blocks, run, "classic")
    assert sc.update_outputs(page, blocks, run, "classic") == 1
    assert page.read_text().split("\n")[6:11] == ["    <!-- output -->", "    ```text", "    hi", "", "    there"]
    assert not sc.check_outputs(sc.extract_blocks(page.read_text(), "page.md"), run, "classic")


def test_list_reports_the_share_of_blocks_run() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, check=True).stdout
    assert "run on the containerd image store, with buildx:" in out
    assert "run on the classic image store, without buildx:" in out


def test_the_own_lab_shim_puts_the_pages_labcheck_on_the_runners_instance(tmp_path: Path) -> None:
    echo = tmp_path / "real"
    echo.write_text('#!/bin/sh\necho "$@"\n')
    echo.chmod(0o755)
    shim = sc.instance_shim(tmp_path / "labcheck", [str(echo)], "site-commands-1234")
    ran = [
        subprocess.run([str(shim), *a], capture_output=True, text=True, check=True).stdout.strip()
        for a in (["run", "part7", "--format", "json"], ["workspace", "part7", "dir"])
    ]
    assert ran == ["run --instance site-commands-1234 part7 --format json", "workspace part7 dir"]


def test_a_blob_mount_in_a_refused_push_is_not_drift() -> None:
    """containerd asks to mount a layer from wherever it last pushed it: not the page's business."""
    base = "unexpected status from POST request to http://localhost:5002/v2/hello-app/blobs/uploads/"
    mounted = f"{base}?mount=sha256:{'e' * 64}&from=my-app-releases: 404 Not Found"
    assert sc.normalise(mounted) == sc.normalise(f"{base}: 404 Not Found")


def test_an_exit_status_for_one_image_store_counts_only_on_that_store(tmp_path: Path) -> None:
    """`exit@classic=1`: a multi-platform build fails on the classic store (the page shows
    that error in a tab) and must succeed on the containerd store."""
    page = "<!-- run: needs=buildx exit@classic=1 -->\n```bash\necho building\nfalse\n```\n"
    (block,) = sc.extract_blocks(page, "p.md")
    assert block.options.exits_on("classic") == (1,) and block.options.exits_on("containerd") == (0,)
    assert block.runs_on("classic") and block.runs_on("containerd")

    def status(store: str) -> int:
        script = sc.page_script([sc.block_code(block, {}, tmp_path, store)], "@@")
        return subprocess.run(["bash", "-c", script], capture_output=True, check=False).returncode

    assert (status("classic"), status("containerd")) == (0, 1)


def test_dots_around_a_line_match_it_wherever_a_map_put_it() -> None:
    """buildx prints an attestation's two annotations in either order (a Go map): the page
    shows the one it teaches between `...` lines, which match both orders."""
    page = ["  Annotations:", "  ...", "    vnd.docker.reference.digest: sha256:" + "a" * 64, "  ..."]
    digest = "    vnd.docker.reference.digest: sha256:" + "b" * 64
    kind = "    vnd.docker.reference.type:   attestation-manifest"
    assert sc.match_lines(page, ["  Annotations:", digest, kind]) is not None
    assert sc.match_lines(page, ["  Annotations:", kind, digest]) is not None
    assert sc.match_lines(page, ["  Annotations:", kind]) is None
