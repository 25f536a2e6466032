"""How the training worker shares the CPU with the GUI: its priority and torch's thread count."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
import torch

from latentlab.gui.training_worker import (
    TRAINING_NICENESS,
    limit_torch_threads,
    lower_thread_priority,
)


def test_a_spare_core_is_left_only_when_asked():
    before = torch.get_num_threads()
    cores = os.cpu_count() or 1
    try:
        assert limit_torch_threads(torch, spare_core=True) == max(1, cores - 1)
        assert limit_torch_threads(torch, spare_core=False) == cores
        assert torch.get_num_threads() == cores
    finally:
        torch.set_num_threads(before)


def _nice(tid: int) -> int:
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat(5), counted after the command name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_threads_torch_starts_for_a_niced_trainer_are_niced_too():
    """The worker lowers its priority before torch starts its threads, so they inherit it."""
    seen: dict[str, object] = {}
    tasks_before = {int(t) for t in os.listdir("/proc/self/task")}
    threads_before = torch.get_num_threads()

    def trainer() -> None:
        seen["niced"] = lower_thread_priority()
        seen["threads"] = limit_torch_threads(torch, spare_core=not seen["niced"])
        a = torch.randn(512, 512)
        for _ in range(3):
            a = torch.mm(a, a).clamp_(-1, 1)  # parallel regions: torch's threads start here
        me = threading.get_native_id()
        new = {int(t) for t in os.listdir("/proc/self/task")} - tasks_before
        seen["me"] = _nice(me)
        seen["team"] = {tid: _nice(tid) for tid in new if tid != me}

    worker = threading.Thread(target=trainer)
    try:
        worker.start()
        worker.join(60)
    finally:
        torch.set_num_threads(threads_before)
    assert seen["niced"] is True
    assert seen["threads"] == (os.cpu_count() or 1)
    assert seen["me"] == TRAINING_NICENESS
    if (os.cpu_count() or 1) > 1:
        assert seen["team"], "torch started no threads of its own for the trainer"
    assert set(seen["team"].values()) <= {TRAINING_NICENESS}, seen["team"]
