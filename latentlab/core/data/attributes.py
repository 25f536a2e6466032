"""Per-image numbers a user brings in a CSV file, for the scatter to colour points by.

One header row names the columns; then one row per image, in the data's order. Every column must
be numeric: a column of words cannot be coloured by, and silently dropping it would hide a file
that is not what the user thinks (a shifted or mislabelled column). An empty cell (or ``nan``)
is a missing value and becomes NaN. The file is read as a stream, each column into a compact
array of doubles, so 200,000 rows of a few columns cost a few MB.
"""

from __future__ import annotations

import csv
import io
import math
import os
from array import array
from pathlib import Path

import numpy as np

from latentlab.core.errors import DataError
from latentlab.core.safe_read import FileRefused, describe_size, open_regular
from latentlab.core.text import first_line, shown_path

__all__ = ["MAX_CSV_BYTES", "read_attributes"]

MAX_CSV_BYTES = 512 * 1024**2  # far above 200,000 rows of 100 numbers; a bigger file is refused


def _delimiter(header_line: str, path: Path) -> str:
    """Comma, unless the file is .tsv or its header holds tabs (or semicolons) and no comma."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    if "," not in header_line:
        for other in ("\t", ";"):
            if other in header_line:
                return other
    return ","


def _column_names(header: list[str], shown: str) -> list[str]:
    names = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(header)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{shown}: column {name!r} appears twice in the header row")
        seen.add(name)
    return names


def _number(cell: str, name: str, line: int, shown: str) -> float:
    text = cell.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{shown}: column {name!r} is not numeric (line {line}: {text[:40]!r}); "
            "attributes must be numbers, so remove or recode that column"
        ) from None
    if math.isinf(value):
        raise DataError(
            f"{shown}: column {name!r} holds {text!r} at line {line}; "
            "use an empty cell for a missing value"
        )
    return value


def _open(path: Path, shown: str):
    try:
        raw = open_regular(path, folder_problem="is a folder, not a CSV file")
    except FileRefused as exc:
        raise DataError(f"{shown}: {exc.problem}") from None
    except FileNotFoundError:
        raise DataError(f"{shown}: file not found") from None
    except OSError as exc:
        raise DataError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    size = os.fstat(raw.fileno()).st_size
    if size > MAX_CSV_BYTES:
        raw.close()
        raise DataError(
            f"{shown}: the file is {describe_size(size)}, more than the "
            f"{describe_size(MAX_CSV_BYTES)} latentlab reads as attributes"
        )
    return raw


def read_attributes(path: str | os.PathLike, count: int) -> dict[str, np.ndarray]:
    """The numeric columns of a CSV file, by header name, each float64 (``count``,).

    ``count`` is the number of images the rows must match. Raises ``DataError`` (one line,
    starting with the path) for a missing or unreadable file, a row count other than ``count``,
    a row with the wrong number of fields, or a column that is not numeric.
    """
    path = Path(path)
    shown = shown_path(path)
    raw = _open(path, shown)
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            delimiter = _delimiter(text.readline(), path)
            text.seek(0)
            reader = csv.reader(text, delimiter=delimiter)
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                raise DataError(f"{shown}: no header row (the first line must name the columns)")
            names = _column_names(header, shown)
            columns = [array("d") for _ in names]
            rows = 0
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
                if len(row) != len(names):
                    raise DataError(
                        f"{shown}: line {reader.line_num} has {len(row)} fields, "
                        f"the header has {len(names)}"
                    )
                rows += 1
                if rows <= count:  # past it only counted, for the message below
                    for name, column, cell in zip(names, columns, row, strict=True):
                        column.append(_number(cell, name, reader.line_num, shown))
    except UnicodeDecodeError:
        raise DataError(f"{shown}: not UTF-8 text (save the CSV as UTF-8)") from None
    except csv.Error as exc:
        raise DataError(f"{shown}: not a readable CSV file ({first_line(exc)})") from None
    if rows != count:
        raise DataError(
            f"{shown}: {rows} rows of attributes, but the data has {count} images "
            "(one row per image, in the data's order, after a header row)"
        )
    return {
        name: np.array(column, dtype=np.float64)
        for name, column in zip(names, columns, strict=True)
    }
