"""The studio's version, as the page, /api/health and /docs show it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("nca-studio")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.1.0"
