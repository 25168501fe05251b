"""The package version, in one place (read by the build from pyproject.toml)."""

__version__ = "0.1.0"
