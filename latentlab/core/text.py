"""Errors as the one line a user reads in a status bar, a dialog or the CLI."""

from __future__ import annotations

from latentlab.core.errors import LatentlabError


def first_line(exc: BaseException | str) -> str:
    """The first non-empty line of a message, or the exception's type name when it has none."""
    text = str(exc).strip()
    if text:
        return text.splitlines()[0].strip()
    return "" if isinstance(exc, str) else type(exc).__name__


def one_line(exc: BaseException) -> str:
    """An exception as one readable line: our own errors already start with one; others are
    prefixed by their type name (``ValueError: ...``) since their text alone can be cryptic."""
    first = first_line(str(exc))
    if isinstance(exc, LatentlabError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
