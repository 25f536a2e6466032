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

from latentlab.core.data.datasets import Dataset

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = pytest.mark.timeout(60)  # a few seconds normally; never a real benchmark run


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The benchmark modules, imported the way run.py imports them (flat, from benchmarks/)."""
    import importlib

    monkeypatch.syspath_prepend(str(BENCH_DIR))
    names = ("common", "run", "bench_training", "bench_gui", "bench_responsive")
    return {name: importlib.import_module(name) for name in names}


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
    assert {"training", "startup", "memory", "gui", "responsive"} <= set(modules)
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


def test_percentiles_match_numpy_and_tail_rows_pool_the_rounds(
    bench: dict[str, ModuleType],
) -> None:
    common = bench["common"]
    rng = np.random.default_rng(1)
    rounds = [list(rng.exponential(2.0, size)) for size in (37, 120, 5)]
    pooled = [v for r in rounds for v in r]
    for q in (0, 50, 90, 99, 100):
        assert math.isclose(common.percentile(pooled, q), float(np.percentile(pooled, q)))
    row = common.tail_result("x, p99", rounds, 99, "ms", "<= 4")
    assert math.isclose(row.median, float(np.percentile(pooled, 99)))
    per_round = [float(np.percentile(r, 99)) for r in rounds]
    assert math.isclose(row.min, min(per_round)) and math.isclose(row.max, max(per_round))
    assert row.met is (row.median <= 4)
    assert common.tail_result("empty", [[]], 99, "ms").median is None


def fake_timings(rng: np.random.Generator, n: int, scale_s: float) -> dict:
    total = list(rng.exponential(scale_s, n) + scale_s)
    return {
        "total": total,
        "handler": [t / 3 for t in total],
        "cpu": [t / 2 for t in total],
        "misses": 1,
        "skipped": 0,
    }


def test_gui_rows_from_a_harness_answer(bench: dict[str, ModuleType]) -> None:
    gui, common = bench["bench_gui"], bench["common"]
    rng = np.random.default_rng(2)
    parts = gui.PARTS
    model = {
        "file": "mnist-cvae.safetensors",
        "note": "bundled",
        "points": 10_000,
        "rounds": {p: [fake_timings(rng, 50, 0.001) for _ in range(3)] for p in parts},
    }
    results = gui.results_from({"models": [model, model | {"file": "b.safetensors"}]}, "", parts)

    assert len(results) == 2 * len(parts) * gui.ROWS
    assert len({r.name for r in results}) == len(results)
    slider = [r for r in results if r.name.startswith("mnist-cvae: slider")]
    median_row, p99_row = slider[0], slider[1]
    samples = [1000 * s for r in model["rounds"]["slider"] for s in r["total"]]
    assert math.isclose(median_row.median, float(np.median(samples)))
    assert math.isclose(p99_row.median, float(np.percentile(samples, 99)))
    assert median_row.target == "<= 2" and p99_row.target == "<= 4"
    assert "3 not painted" in median_row.note
    assert all(r.met in (True, False) for r in results if r.target)
    assert "mnist-cvae" in common.table(results)

    missing = gui.results_from(None, "subprocess failed: boom", parts)
    assert all(r.median is None and "boom" in r.note for r in missing)


def test_responsive_rows_from_a_harness_answer(bench: dict[str, ModuleType]) -> None:
    resp = bench["bench_responsive"]
    rng = np.random.default_rng(3)

    def reports(rate: float, n: int = 200) -> list[tuple[int, float]]:
        return [(b, 0.5 + b / rate) for b in range(10, n + 1, 10)]

    def segment(rate: float) -> dict:
        gaps = list(0.010 + rng.exponential(0.001, 300))
        gaps[5] = 0.400  # the start: import torch
        return {
            "gaps": gaps,
            "slider": fake_timings(rng, 30, 0.002),
            "reports": reports(rate),
            "seconds": 3.0,
            "to_first_batch": 1.0,
            "split": {"tick": 20, "slider": 3},
        }

    assert math.isclose(resp.throughput(reports(80.0)), 80.0)
    assert resp.throughput([(5, 0.1)]) is None
    out = {
        "idle": {"gaps": [0.010] * 50, "slider": fake_timings(rng, 10, 0.001)},
        "app": [segment(80.0), segment(100.0)],
        "cli": [{"reports": reports(100.0), "threads": 2}, {"reports": reports(100.0)}],
    }
    results = {r.name: r for r in resp.results_from(out, "", "bundled", resp.QUICK)}

    ratio = results["training: app / CLI time per batch"]
    assert math.isclose(ratio.min, 1.0) and math.isclose(ratio.max, 1.25)
    assert ratio.met is True
    late = results["heartbeat lateness while training, max"]
    assert late.median < 100  # the start-up stall is reported apart, not as training
    assert results["heartbeat lateness during that start, max"].median > 380
    assert all(r.met in (True, False) for r in results.values() if r.target)

    missing = resp.results_from(None, "no MNIST", "bundled", resp.QUICK)
    assert missing and all(r.median is None for r in missing)


def test_gui_harness_runs_the_real_window(
    bench: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A few moves of each action in the real app (offscreen subprocess): rows with figures."""
    pytest.importorskip("PySide6")
    pytest.importorskip("pyqtgraph")
    import argparse

    gui, setup = bench["bench_gui"], pytest.importorskip("gui_setup")
    monkeypatch.setattr(
        gui, "QUICK", {"rounds": 1, "slider": 3, "click": 2, "drag": 3, "warmup": 1}
    )
    monkeypatch.setattr(setup, "STAND_IN_POINTS", 500)
    model = setup.stand_in_model(tmp_path, "vae-2d", "tiny.safetensors")
    args = argparse.Namespace(quick=True, model=str(model), data_dir=str(tmp_path), parts={})
    results = gui.run(args)

    figures = [r for r in results if "GUI-thread" not in r.name]
    assert figures and all(r.median is not None and r.median > 0 for r in figures), [
        (r.name, r.note) for r in results
    ]


def test_import_benchmark_plumbing_on_tiny_models(
    bench: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """bench_import's own harnesses (fresh processes) on a 16x16 model and 300 images: rows."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("latentlab.core.data.sources")  # the --data readers (branch data)
    import importlib

    imp, common = importlib.import_module("bench_import"), bench["common"]
    monkeypatch.setattr(imp, "CHANNELS", (16, 8))
    scratch = imp.Scratch(tmp_path, images=300, side=16)
    decoder, _ = scratch.graphs()
    plan = {"moves": 5, "rounds": 2, "imports": 1, "side": 16}

    params = {"model": str(scratch.decoder_only()), "graph": str(decoder), **plan}
    out, why = imp._call("slider_harness", params, 60)
    rows = imp.slider_results(out, why, "tiny")
    assert all(r.median is not None and r.median > 0 for r in rows), (why, rows)
    assert rows[0].target == "<= 2" and rows[-1].unit == "x"

    params = {**scratch.request(), "out": str(tmp_path / "m.latentlab"), **plan}
    out, why = imp._call("throughput_harness", params, 60)
    memory, memory_why = imp._call("memory_harness", params, 60)
    memory["data_mb"] = 1.0
    rows = imp.throughput_results(out, why, memory, memory_why)
    assert all(r.median is not None and r.median > 0 for r in rows), (why, memory_why, rows)
    assert "300 16x16" in rows[0].name
    assert any(r.target == ">= 0.5" and r.met in (True, False) for r in rows)

    fake = {"interactive": 0.8, "painted": 0.5, "modules_at_interactive": ["torch"]}
    startup = imp.startup_results([fake, fake | {"modules_at_interactive": []}], "tiny")
    assert startup[-1].median == 1 and "torch" in startup[-1].note
    missing = imp.startup_results([{"error": "boom"}], "tiny")
    assert missing[0].median is None and "boom" in missing[0].note
    assert "tiny" in common.table(rows + startup)
