"""labcheck: hands-on lab and exercise checker for the Docker registries course."""

try:  # written by the build (hatch-vcs) from the git tag; absent in a bare checkout
    from labcheck._version import __version__
except ImportError:  # pragma: no cover - only when run from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
