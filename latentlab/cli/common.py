"""What every command shares: exit codes, bounded options, opening a model file, output files."""

from __future__ import annotations

from ..core.errors import LatentlabError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130


def in_range(option: str, value: int, low: int, high: int) -> None:
    """Size-like options are bounded, so a typo cannot ask for gigabytes or years."""
    if not low <= value <= high:
        raise LatentlabError(f"{option} must be in {low}..{high:,}, got {value:,}")
