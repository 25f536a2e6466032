"""The soak benchmark's plumbing: its rows from a child's report (no soak is run here)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def soak(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("bench_soak")


def test_module_plugs_into_the_runner(soak):
    assert soak.NAME == "soak" and set(soak.PARTS) == {"explore", "train_cancel"}
    assert soak.QUICK_SLIDER_CHANGES < soak.SLIDER_CHANGES == 100_000
    assert soak.QUICK_CLICKS < soak.CLICKS == 1_000 and soak.CYCLES == 10


def test_explore_rows_show_growth_against_flat_targets(soak):
    start = {"rss": 150.0, "qt_objects": 1000, "scene_items": 80, "threads": 3}
    end = {"rss": 190.0, "qt_objects": 1003, "scene_items": 80, "threads": 3}
    out = {
        "model": "m.safetensors",
        "latent_dim": 8,
        "slider_changes": 100,
        "clicks": 10,
        "clicks_on_a_point": 9,
        "slider_us": 50.0,
        "click_ms": 2.0,
        "start": start,
        "end": end,
        "rss_trace": [150.0, 170.0, 190.0],
    }
    rows = {r.name: r for r in soak.explore_results(out, "", "note")}
    assert rows["soak: RSS growth"].median == 40.0 and rows["soak: RSS growth"].met is False
    assert rows["soak: live Qt objects growth"].met is False  # 3 objects leaked
    assert rows["soak: scatter scene items growth"].met is True
    assert rows["soak: RSS at end"].median == 190.0


def test_train_cancel_rows_catch_a_leaked_thread(soak):
    cycles = [{"rss": 400.0 + i, "threads": 5 + (i == 9), "joined": True} for i in range(10)]
    rows = {
        r.name: r for r in soak.train_cancel_results({"cycles": cycles, "still_running": 0}, "")
    }
    assert (
        rows["train-cancel: thread growth"].median == 1
        and rows["train-cancel: thread growth"].met is False
    )
    assert rows["train-cancel: training threads still running"].met is True
    assert rows["train-cancel: RSS growth, cycle 2 to last"].median == 8.0


def test_a_failed_child_gives_a_row_saying_why(soak):
    (row,) = soak.explore_results(None, "subprocess timed out after 1800 s", "note")
    assert row.median is None and "timed out" in row.note
    (row,) = soak.train_cancel_results(None, "boom")
    assert row.median is None and "boom" in row.note
