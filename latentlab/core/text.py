"""Errors as the one line a user reads in a status bar, a dialog or the CLI."""

from __future__ import annotations

import os

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


def shown_path(path: object) -> str:
    """A path as it can be printed inside a one-line message: control characters escaped.

    A file name may hold a newline, a tab or a terminal escape; printed raw it would cut the
    message (``first_line`` keeps only the part before the newline) or rewrite the terminal.
    Printable characters, non-ASCII letters included, are kept as they are.
    """
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    """``\\n``, ``\\t``, ``\\x1b``: as repr writes a character, without the quotes."""
    return repr(char)[1:-1] if char not in "'\"" else char


def about_path(path: object, exc: BaseException | str) -> str:
    """``PATH: problem`` for a message about one file, naming the path once (an error such as
    `atomic.WriteError` already starts with it)."""
    shown, text = shown_path(path), first_line(exc)
    return text if text.startswith(f"{shown}: ") else f"{shown}: {text}"
