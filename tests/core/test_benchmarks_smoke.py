"""The benchmarks still run: the smallest training comparison gives sane Result rows.

Only the plumbing is checked (rows, fields, table, JSON, --only); speed is never asserted in the
test suite. The real figures come from `python benchmarks/run.py` on a quiet machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from latentlab.core.datasets import Dataset

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = pytest.mark.timeout(60)  # a few seconds normally; never a real benchmark run


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The benchmark modules, imported the way run.py imports them (flat, from benchmarks/)."""
    import importlib

    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return {name: importlib.import_module(name) for name in ("common", "run", "bench_training")}


def random_dataset(n_train: int = 256, n_test: int = 64) -> Dataset:
    """Two batches of 128 random images: enough to run every contender once."""
    rng = np.random.default_rng(0)
    return Dataset(
        name="mnist",
        class_names=tuple(str(i) for i in range(10)),
        train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        train_labels=rng.integers(0, 10, n_train).astype(np.uint8),
        test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        test_labels=rng.integers(0, 10, n_test).astype(np.uint8),
        source_dir=Path("."),
    )


def test_training_speed_gives_sane_rows(bench: dict[str, ModuleType]) -> None:
    common, training = bench["common"], bench["bench_training"]
    results = training.bench_speed(random_dataset(), epochs=1, device="cpu")

    assert results and all(isinstance(r, common.Result) for r in results)
    names = [r.name for r in results]
    assert len(names) == len(set(names))
    for r in results:
        assert r.unit, r.name
        assert r.median is not None and math.isfinite(r.median), r.name
        assert r.min <= r.median <= r.max, r.name
        if r.target:
            assert r.met in (True, False), r.name  # a target that parses
    seconds = {r.name: r.median for r in results if r.unit == "s"}
    assert all(v > 0 for v in seconds.values())

    text = common.table(results)
    assert all(name in text for name in names)
    rows = json.loads(json.dumps([r.as_dict() for r in results]))
    assert {"name", "median", "min", "max", "unit", "target", "note", "met"} <= set(rows[0])


def test_runner_discovers_and_selects(bench: dict[str, ModuleType]) -> None:
    runner = bench["run"]
    modules = runner.discover()
    assert {"training", "startup", "memory"} <= set(modules)
    for module in modules.values():
        assert callable(module.run)

    only = runner.parse_only(["training.speed,startup", "training.scale"], modules)
    assert only == {"training": {"speed", "scale"}, "startup": set()}
    assert runner.parse_only(None, modules) == {name: set() for name in modules}
    with pytest.raises(SystemExit):
        runner.parse_only(["no-such-benchmark"], modules)
    with pytest.raises(SystemExit):
        runner.parse_only(["training.no-such-part"], modules)


def test_targets_and_missing_figures(bench: dict[str, ModuleType]) -> None:
    common = bench["common"]
    assert common.result_from("a", [3.0, 1.0, 2.0], "x", ">= 2.0").met is True
    assert common.result_from("b", [1.2], "x", "<= 1.0").met is False
    assert common.result_from("c", [-0.4], "nats", "|x| <= 1").met is True
    missing = common.unavailable("gpu", "s", "", "no GPU on this machine")
    assert missing.median is None and missing.met is None
    assert "n/a" in common.table([missing])
