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


NEEDS_PAGE = textwrap.dedent(
    """\
    ```bash
    echo before > before.txt
    ```

    <!-- needs: containerd image store -->
    ```bash
    echo multi > multi.txt
    ```

    ```bash
    test -f before.txt
    ```
    """
)


def test_a_needs_comment_marks_only_the_next_block() -> None:
    blocks = sc.extract_blocks(NEEDS_PAGE, "page.md")
    assert [b.needs for b in blocks] == [None, "containerd image store", None]
    assert all(b.runnable for b in blocks)  # runnable, where the engine has what it needs


def test_what_a_block_needs_is_met_or_said() -> None:
    (_, multi, _) = sc.extract_blocks(NEEDS_PAGE, "page.md")
    assert sc.unmet(multi, {sc.CONTAINERD_STORE}) is None
    assert sc.unmet(multi, set()) == "needs the containerd image store: this engine has the classic one"
    odd = sc.Block("page.md", 1, "bash", "true\n", needs="a gpu")
    assert "needs 'a gpu', which site-commands does not know" in (sc.unmet(odd, {sc.CONTAINERD_STORE}) or "")


@pytest.mark.parametrize("has", [set(), {"containerd image store"}])
def test_blocks_the_engine_cannot_run_are_skipped_saying_why(
    has: set[str], fake_labcheck: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LABCHECK", fake_labcheck)
    blocks = sc.extract_blocks(NEEDS_PAGE, "page.md")
    assert sc.run_page("page.md", blocks, {}, timeout=60, engine_has=has)
    out = capsys.readouterr().out
    if has:
        assert out.count("  ok  ") == 3 and "skip" not in out
    else:
        assert out.count("  ok  ") == 2
        assert "  skip    page.md:6  echo multi > multi.txt  (needs the containerd image store" in out
