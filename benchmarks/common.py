"""Shared pieces of the benchmarks: the Result row, timing helpers, tables, machine facts.

Only the standard library is imported here, so `run.py --list` and the start-up harness stay
light. Every figure is a median with its min-max; comparisons are ratios of samples taken in
alternation (A, B, A, B, ...) in the same run, so slow drift on a busy machine hits both sides.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR_ENV = "LATENTLAB_DATA_DIR"
DEFAULT_DATA_DIR = REPO.parent / "shared" / "datasets" / "mnist"
NA = "n/a"

_TARGET = re.compile(r"^\s*(<=|>=|<|>|\|x\|\s*<=)\s*([-+0-9.eE]+)")


@dataclass
class Result:
    """One row of the report: a median with its min-max, and the target it is held against.

    `median` is None when the figure could not be measured (no GPU, GUI not importable...);
    `note` then says why. `target` is a string such as ">= 2.0", "<= 1.5" or "|x| <= 1".
    """

    name: str
    median: float | None
    min: float | None = None
    max: float | None = None
    unit: str = ""
    target: str = ""
    note: str = ""
    samples: list[float] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        """Whether the median meets the target; None when there is no target or no figure."""
        if self.median is None or not self.target:
            return None
        m = _TARGET.match(self.target)
        if m is None:
            return None
        op, bound = m.group(1).replace(" ", ""), float(m.group(2))
        value = self.median
        if op.startswith("|x|"):
            return abs(value) <= bound
        return {
            "<=": value <= bound,
            ">=": value >= bound,
            "<": value < bound,
            ">": value > bound,
        }[op]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["met"] = self.met
        return data


def result_from(
    name: str,
    samples: Sequence[float],
    unit: str,
    target: str = "",
    note: str = "",
) -> Result:
    """Median, min and max of `samples` (an empty list gives a "not measured" row)."""
    values = [float(v) for v in samples]
    if not values:
        return Result(name, None, None, None, unit, target, note or "not measured")
    return Result(
        name,
        statistics.median(values),
        min(values),
        max(values),
        unit,
        target,
        note,
        values,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated between order statistics (numpy's)."""
    ordered = sorted(float(v) for v in values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def tail_result(
    name: str,
    rounds: Sequence[Sequence[float]],
    q: float,
    unit: str,
    target: str = "",
    note: str = "",
) -> Result:
    """A tail row: the q-th percentile of all samples pooled, min-max of each round's own.

    The "median" column of such a row holds the pooled percentile (its name says which), so the
    target is held against the tail over every sample, not against a median of rounds.
    """
    pooled = [float(v) for r in rounds for v in r]
    if not pooled:
        return Result(name, None, None, None, unit, target, note or "not measured")
    per_round = [percentile(r, q) for r in rounds if len(r)]
    spread = f"min-max: p{q:g} of each of {len(per_round)} rounds"
    return Result(
        name,
        percentile(pooled, q),
        min(per_round),
        max(per_round),
        unit,
        target,
        f"{spread}; {note}" if note else spread,
        per_round,
    )


def unavailable(name: str, unit: str, target: str, why: str) -> Result:
    """A row for a figure this machine or checkout cannot measure, saying why."""
    return Result(name, None, None, None, unit, target, why)


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two alternately measured series (pairs taken in the same round)."""
    return [a / b for a, b in zip(numerators, denominators, strict=False) if b > 0]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds `fn()` took (perf_counter) and what it returned."""
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def alternate(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each contender once per round, in turn; each returns the seconds it measured."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(fn())
    return samples


# --- memory --------------------------------------------------------------------------------


def proc_status_mb() -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of this process in MB, from /proc.

    Falls back to `resource.getrusage` (peak only) where /proc is missing (macOS).
    """
    out: dict[str, float] = {}
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        text = ""
    for key in ("VmRSS", "VmHWM"):
        m = re.search(rf"^{key}:\s+(\d+)\s+kB", text, re.M)
        if m:
            out[key] = int(m.group(1)) / 1024
    if "VmHWM" not in out:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["VmHWM"] = peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return out


# --- data ----------------------------------------------------------------------------------


def data_dir(args: argparse.Namespace | None = None) -> Path:
    """--data-dir, else $LATENTLAB_DATA_DIR, else ../shared/datasets/mnist next to the repo."""
    explicit = getattr(args, "data_dir", None) if args is not None else None
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else DEFAULT_DATA_DIR


# --- subprocesses --------------------------------------------------------------------------


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a benchmark subprocess: this checkout first on the path, plus `extra`."""
    env = dict(os.environ)
    paths = [str(REPO), str(BENCH_DIR)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra or {})
    return env


def run_json_subprocess(
    code: str, env: dict[str, str], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """Run `python -c code`; its last stdout line that parses as a JSON object is the answer.

    Returns (answer or None, a one-line reason when None).
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=str(REPO),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"subprocess timed out after {timeout:g} s"
    for line in reversed(proc.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line), ""
            except json.JSONDecodeError:
                continue
    tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return None, f"subprocess failed: {tail[:200]}"


# --- machine facts -------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return NA


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return m.group(1).strip() if m else platform.machine()


def _cpu_flags() -> list[str]:
    """The CPU features that decide bf16 and GEMM speed (AVX-512, AMX, bf16)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    m = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "fma")
    return [f for f in (m.group(1).split() if m else []) if f in wanted]


def _git_commit() -> str:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=str(REPO),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return NA
    return proc.stdout.strip() or NA


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: above the core count, timings are noisy."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine_info() -> dict[str, Any]:
    """What the numbers depend on, written into the JSON file next to them."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "cpu_model": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "load_average": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "PySide6": _version("PySide6")
        if _version("PySide6") != NA
        else _version("PySide6-Essentials"),
        "pyqtgraph": _version("pyqtgraph"),
        "git_commit": _git_commit(),
    }
    if "torch" in sys.modules:  # only if a benchmark already paid for the import
        torch = sys.modules["torch"]
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


# --- printing ------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    """Three significant figures, no scientific notation for everyday magnitudes."""
    if value is None:
        return NA
    if value == 0 or not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(magnitude)))
    return f"{value:.{min(digits, 6)}f}"


def table(results: Iterable[Result]) -> str:
    """Aligned columns: name, median, min-max, unit, target, met, note."""
    header = ("benchmark", "median", "min - max", "unit", "target", "met", "note")
    rows = [header]
    for r in results:
        span = NA if r.min is None else f"{fmt(r.min)} - {fmt(r.max)}"
        met = {True: "yes", False: "NO", None: ""}[r.met]
        rows.append((r.name, fmt(r.median), span, r.unit, r.target, met, r.note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    right = {1, 2}  # numbers read best right-aligned
    lines = []
    for k, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right and k else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def write_json(path: Path, results: Sequence[Result], extra: dict[str, Any]) -> None:
    """All results plus machine facts, for comparing runs and machines later."""
    payload = {"machine": machine_info(), **extra, "results": [r.as_dict() for r in results]}
    Path(path).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def log(message: str) -> None:
    """Progress on stderr, so a long run shows where it is without mixing into the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def selected_parts(args: argparse.Namespace, module: str, parts: Sequence[str]) -> tuple[str, ...]:
    """The parts of `module` that `--only` asked for (all of them when it named the module)."""
    chosen = getattr(args, "parts", None) or {}
    wanted = chosen.get(module)
    return tuple(p for p in parts if not wanted or p in wanted)
