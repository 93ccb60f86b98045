"""labcheck: hands-on lab and exercise checker for the Docker registries course."""

__version__ = "0.1.0"
