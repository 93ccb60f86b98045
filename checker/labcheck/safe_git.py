"""Run git on a workspace without running anything the workspace (or the environment) names.

A repository's own .git/config can name programs git runs on its own: core.fsmonitor on any
command that reads the index (`ls-files`, `status`), gpg.program when log.showSignature is
on, pagers, diff drivers and filters. labcheck reads learners' workspaces, and a workspace
may be a clone of anything, so every git call goes through `git()` here:

- `-c` overrides (they win over every config file) switch off fsmonitor, signature checks,
  hooks and the pager and name no ssh program;
- labcheck's commands show no diffs and run no filters (`cat-file blob`, not `show`);
- the environment's GIT_* variables (GIT_DIR, GIT_EXTERNAL_DIFF, GIT_PAGER, GIT_SSH_COMMAND,
  GIT_CONFIG_PARAMETERS and GIT_CONFIG_COUNT/KEY/VALUE, which inject config, ...) are dropped,
  but for the author and committer identity, which are data;
- no optional locks (reading never writes the index), no prompts, a timeout.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: Overrides of any config (system, global, the repository's, its includes).
SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "log.showSignature=false",
    "protocol.allow=never",
)
#: GIT_* variables that only say who commits: kept for `labcheck workspace`'s first commit.
_IDENTITY = frozenset(f"GIT_{who}_{what}" for who in ("AUTHOR", "COMMITTER") for what in ("NAME", "EMAIL", "DATE"))


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _IDENTITY}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    return env


def git(
    repo: Path, *args: str, timeout: float = 60.0, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`git -C repo ARGS` run safely (see the module docstring), `stdin` its input. Never raises
    for git's own failures: a missing git (127) or a timeout (124) is a failed command with a
    reason in stderr."""
    command = ["git", "--no-pager"]
    for setting in SAFE_CONFIG:
        command += ["-c", setting]
    command += ["-C", str(repo), *args]
    try:
        return subprocess.run(
            command, input=stdin, capture_output=True, timeout=timeout, env=_environment(), check=False
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, b"", b"git is not installed")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, b"", f"git {args[0]} took more than {timeout:g} s".encode())
