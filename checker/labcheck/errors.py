"""Every error labcheck raises on purpose.

The CLI turns these into one line, a tip and an exit code; anything else is a bug.

    LabcheckError                    root; .tip says what to do, .exit_code is the CLI's code
    +-- UsageError                   exit 2: bad command-line input (unknown lab, exercise, ...)
    |   +-- SpecError                exit 2: a lab spec or solutions manifest is invalid
    |   +-- WorkspaceError           exit 2: --workspace is missing or not a git repository
    |   +-- RosterError              exit 2: a class roster line is invalid (names file:line)
    +-- EnvironmentError_            exit 3: the lab environment cannot be set up or found
    |   +-- DockerUnavailable        exit 3: no Docker daemon answers
    |   +-- PortInUse                exit 3: a service's host port is taken
    |   +-- ImageMissing             exit 3: an image is absent and cannot be pulled
    |   +-- LabNotRunning            exit 3: the lab must be up for this command
    |   +-- ClassError               exit 3: the class registry cannot start, or is not (or already) up
    |   +-- ToolMissing              exit 3: a package labcheck needs (boto3) cannot be imported
    |   +-- UnsafeDirectory          exit 3: a folder for secrets is someone else's, or others may write to it
    |   +-- StateDamaged             exit 3: a lab or class state file is not what labcheck wrote
    |   +-- SiteMissing              exit 3: this install has no built course site (`labcheck docs`)
    +-- RegistryError                exit 3: talking to a registry failed (we could not grade)
    |   +-- RegistryUnreachable      connection refused, DNS, timeout, TLS
    |   +-- RegistryAuthError        401/403: credentials missing or refused
    |   |   +-- EcrLoginError        no ECR login from AWS: no AWS credentials, refused, unknown region
    |   +-- RateLimited              429 after the retries; .retry_after in seconds
    |   +-- RegistryProtocolError    not a registry, garbage JSON, digest mismatch, huge body
    +-- RunTimeout                   exit 3: `labcheck run` took longer than its --timeout
    +-- VerifyError                  exit 1: `labcheck verify` found a solution that grades wrong

Registry errors never mean the learner is wrong: during grading they become "error" results.
Messages and tips are made printable (text.printable): a server's words can be in them.
"""

from __future__ import annotations

from labcheck.text import printable


class LabcheckError(Exception):
    """Root of labcheck's errors: a one-line message, a tip and an exit code."""

    exit_code = 3
    default_tip = ""

    def __init__(self, message: str, *, tip: str | None = None) -> None:
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.tip = printable(tip) if tip is not None else self.default_tip

    def __str__(self) -> str:
        return self.message


class UsageError(LabcheckError):
    """The command line asked for something that does not exist or does not fit."""

    exit_code = 2
    default_tip = "run `labcheck --help` for usage"


class SpecError(UsageError):
    """A lab spec or solutions manifest is invalid: names the file and the key path."""

    default_tip = "fix the spec; `labcheck list` shows the labs that load"


class WorkspaceError(UsageError):
    """The learner's workspace is missing or is not a git repository."""

    default_tip = "pass --workspace DIR, or create one with `labcheck workspace part7 DIR`"


class RosterError(UsageError):
    """A class roster is unreadable or a line of it is invalid."""

    default_tip = "one learner per line: id[,name][,email]; ids are lower-case letters, digits, . _ -"


class EnvironmentError_(LabcheckError):
    """The lab's environment (Docker, containers, ports) cannot be set up or found."""

    exit_code = 3


class DockerUnavailable(EnvironmentError_):
    """No Docker daemon answers on DOCKER_HOST or the default socket."""

    default_tip = "start Docker (e.g. `sudo systemctl start docker`) and check `docker info`"


class PortInUse(EnvironmentError_):
    """A lab service's host port is already taken."""


class ImageMissing(EnvironmentError_):
    """An image the lab needs is absent locally and cannot be pulled."""

    default_tip = "without internet access, build it with `scripts/offline-images`"


class LabNotRunning(EnvironmentError_):
    """The command needs the lab's services to be up."""


#: boto3 and awscli are labcheck's own dependencies: missing, the install is broken.
REINSTALL_TIP = (
    "labcheck's install is incomplete: reinstall it (pipx reinstall labcheck, or pip install --force-reinstall)"
)


class ToolMissing(EnvironmentError_):
    """A package labcheck depends on (boto3) cannot be imported: a broken install."""


class SiteMissing(EnvironmentError_):
    """`labcheck docs`: the install carries no built course site (a wheel built without it)."""


class ClassError(EnvironmentError_):
    """The class environment (token server, shared registry) cannot start or is not in the expected state."""


class UnsafeDirectory(EnvironmentError_):
    """A folder that holds passwords belongs to another user, or others may write to it."""


class StateDamaged(EnvironmentError_):
    """A state file is not JSON, or lacks a key, or holds a value of the wrong type."""


class RegistryError(LabcheckError):
    """Talking to a registry failed; grading turns this into an "error" result."""

    exit_code = 3


class RegistryUnreachable(RegistryError):
    """Connection refused, name resolution, timeout or TLS failure."""

    default_tip = "is the registry running? `labcheck status` lists the lab's services"


class RegistryAuthError(RegistryError):
    """The registry refused us (401/403): no credentials, or wrong ones."""

    default_tip = "log in with `docker login HOST` (labcheck reads the Docker credentials)"


class EcrLoginError(RegistryAuthError):
    """AWS gave no ECR login token: no AWS credentials, credentials refused, or an unknown region."""

    default_tip = (
        "configure AWS credentials allowed to call ecr:GetAuthorizationToken "
        "(`aws configure`, `aws sso login` or AWS_PROFILE); `aws sts get-caller-identity` shows who you are"
    )


class RateLimited(RegistryError):
    """The registry kept answering 429 after the bounded retries."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        tip = (
            f"wait {retry_after:.0f} s and run again" if retry_after is not None else "wait a few minutes and run again"
        )
        super().__init__(message, tip=tip)
        self.retry_after = retry_after


class RegistryProtocolError(RegistryError):
    """The server's answer is not what a registry says (HTML, garbage, digest mismatch)."""

    default_tip = "check that --registry names a Docker registry (it should answer /v2/)"


class RunTimeout(LabcheckError):
    """`labcheck run` did not finish within its --timeout: a registry or the daemon is too slow."""

    exit_code = 3
    default_tip = "run again later, or give it longer with --timeout SECONDS"


class VerifyError(LabcheckError):
    """`labcheck verify` found a solution whose grade differs from what it declares."""

    exit_code = 1
