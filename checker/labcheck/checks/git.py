"""Check kinds tying tags to the learner's git commits."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from labcheck.checks.base import (
    CheckKind,
    Context,
    RepoArgs,
    repo_state,
    see,
    short,
    workspace_state,
)
from labcheck.observe.model import Commit, Observations, RepoState, TagInfo, WorkspaceState
from labcheck.observe.needs import Needs
from labcheck.results import Outcome


class CommitTagArgs(RepoArgs):
    # image path -> workspace path: the files that must equal the commit's
    files: dict[str, str] = Field(min_length=1)
    latest: str = "latest"


def _needs(args: CommitTagArgs) -> Needs:
    return Needs(
        repos={(args.service, args.repository): frozenset(args.files)},
        workspace_files=frozenset(args.files.values()),
    )


def _holds(info: TagInfo, commit: Commit, files: Mapping[str, str]) -> bool:
    return all(
        info.files.get(img) is not None and info.files.get(img) == commit.files.get(ws) for img, ws in files.items()
    )


def _verified(state: RepoState, ws: WorkspaceState, files: Mapping[str, str]) -> list[tuple[str, Commit]]:
    """(tag, commit) for each tag that is a workspace commit's short SHA and holds its code."""
    found = []
    for tag, info in state.tags.items():
        commit = ws.commit_for_tag(tag)
        if commit is not None and _holds(info, commit, files):
            found.append((tag, commit))
    return found


Observed = tuple[RepoState, WorkspaceState, list[tuple[str, Commit]]]


def _observe(args: CommitTagArgs, obs: Observations, ctx: Context) -> Observed | Outcome:
    """The repository, the workspace and the verified (tag, commit) pairs; or an error."""
    state = repo_state(obs, ctx, args.service, args.repository)
    if isinstance(state, Outcome):
        return state
    ws = workspace_state(obs)
    if isinstance(ws, Outcome):
        return ws
    return state, ws, _verified(state, ws, args.files)


class CommitTag(CheckKind[CommitTagArgs]):
    """A tag is the short SHA of a workspace commit, and the image holds that commit's files."""

    name = "commit_tag"
    args_model = CommitTagArgs

    def needs(self, args: CommitTagArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: CommitTagArgs, obs: Observations, ctx: Context) -> Outcome:
        seen = _observe(args, obs, ctx)
        if isinstance(seen, Outcome):
            return seen
        state, ws, good = seen
        if good:
            tag, commit = good[0]
            evidence = {state.ref.ref(t): state.tags[t].digest for t, _ in good}
            return Outcome.passed(f":{tag} holds the code of commit {commit.sha[:12]} ({commit.subject})", evidence)
        repo = f"{state.ref.host}/{state.ref.repository}"
        for tag, info in sorted(state.tags.items()):
            tagged = ws.commit_for_tag(tag)
            if tagged is None:
                continue
            actual = next((c for c in ws.commits if _holds(info, c, args.files)), None)
            evidence = {state.ref.ref(tag): info.digest}
            if actual is not None:
                return Outcome.failed(
                    f":{tag} holds the code of commit {actual.sha[:7]}, not of {tagged.sha[:7]}",
                    f"the image tagged :{tag} was built from commit {actual.sha[:7]} ({actual.subject}): "
                    f"you took the SHA before committing. Commit first, then "
                    f"`GIT_SHA=$(git rev-parse --short HEAD)`, build and push{see(ctx)}",
                    evidence,
                )
            return Outcome.failed(
                f":{tag} holds code that is in no commit",
                f"the image tagged :{tag} was built with uncommitted changes: commit, then build "
                f"and tag with `git rev-parse --short HEAD`{see(ctx)}",
                evidence,
            )
        hexish = sorted(t for t in state.tags if len(t) >= 7 and all(c in "0123456789abcdef" for c in t))
        if hexish:
            hint = (
                f":{hexish[0]} is not a commit of your workspace ({ws.path}): tag with "
                f"`git rev-parse --short HEAD` run in the workspace{see(ctx)}"
            )
        else:
            hint = (
                f"no tag of {repo} is a commit SHA: `GIT_SHA=$(git rev-parse --short HEAD)`, then "
                f"`docker build -t {repo}:$GIT_SHA .` and push it{see(ctx)}"
            )
        return Outcome.failed(f"no tag of {repo} is a commit of the workspace", hint)


class LatestIsNewestCommit(CheckKind[CommitTagArgs]):
    """latest is the same image as the tag of the newest commit that has one."""

    name = "latest_is_newest_commit"
    args_model = CommitTagArgs

    def needs(self, args: CommitTagArgs) -> Needs:
        return _needs(args)

    def evaluate(self, args: CommitTagArgs, obs: Observations, ctx: Context) -> Outcome:
        seen = _observe(args, obs, ctx)
        if isinstance(seen, Outcome):
            return seen
        state, ws, good = seen
        if not good:
            return Outcome.failed(
                "no tag holds the code of its commit yet",
                f"push an image tagged with its commit's short SHA first{see(ctx)}",
            )
        order = {c.sha: i for i, c in enumerate(ws.commits)}
        tag, commit = min(good, key=lambda tc: order[tc[1].sha])
        evidence = {state.ref.ref(tag): state.tags[tag].digest}
        latest = state.tags.get(args.latest)
        if latest is None:
            return Outcome.failed(
                f"{state.ref.ref(args.latest)} is not in the registry",
                f"tag the build of commit {commit.sha[:7]} as :{args.latest} too and push it{see(ctx)}",
                evidence,
            )
        evidence[state.ref.ref(args.latest)] = latest.digest
        if state.same_image(args.latest, tag):
            return Outcome.passed(f":{args.latest} is :{tag}, the newest commit's image", evidence)
        return Outcome.failed(
            f":{args.latest} is not :{tag}",
            f":{args.latest} is {short(latest.digest)}, :{tag} is {short(state.tags[tag].digest)}: "
            f"push :{args.latest} from the same build as the newest SHA tag{see(ctx)}",
            evidence,
        )
