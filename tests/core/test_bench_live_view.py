"""The live-view benchmark's plumbing: rows from a harness answer (speed is never asserted)."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("bench_live_view")


def test_rows_from_a_harness_answer(live: ModuleType) -> None:
    rng = np.random.default_rng(4)

    def reports(rate: float, n: int = 300) -> list[tuple[int, float]]:
        return [(b, 0.5 + b / rate) for b in range(10, n + 1, 10)]

    def segment(rate: float, late_ms: float = 1.0) -> dict:
        gaps = list(0.005 + rng.exponential(late_ms / 1000, 400))
        return {"reports": reports(rate), "gaps": gaps, "snapshots": 3, "frames": 3, "dock": True}

    out = {
        "off": [segment(100.0), segment(100.0)],
        "on": [segment(95.0), segment(80.0)],
        "snapshot_every": 200,
        "snapshot_ms": [12.0, 14.0, 13.0],
    }
    results = {r.name: r for r in live.results_from(out, "", "bundled", live.QUICK)}
    ratio = results["live view on / off: training time per batch"]
    assert math.isclose(ratio.min, 100 / 95) and math.isclose(ratio.max, 1.25)
    assert ratio.met is (ratio.median <= 1.10)
    beat = results["heartbeat (5 ms timer) lateness with the live view, p99"]
    pooled = [max(0.0, 1000 * g - 5) for seg in out["on"] for g in seg["gaps"]]
    assert math.isclose(beat.median, float(np.percentile(pooled, 99)))
    assert (
        results["one snapshot on the worker: encode 2,000 test images, copy the decoder"].median
        == 13.0
    )
    assert math.isclose(live.throughput(reports(80.0)), 80.0)
    assert live.throughput([(5, 0.1)]) is None

    missing = live.results_from(None, "no MNIST", "bundled", live.QUICK)
    assert missing and all(r.median is None and r.note == "no MNIST" for r in missing)


def test_the_runner_finds_it(live: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = importlib.import_module("run")
    modules = runner.discover()
    assert modules.get("live_view") is live or modules["live_view"].NAME == live.NAME
    assert callable(modules["live_view"].run)
