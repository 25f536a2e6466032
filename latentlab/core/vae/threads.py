"""How a background trainer shares the CPU with an interactive front end: torch's thread count
and the trainer thread's priority. No torch import here: callers pass the module they loaded."""

from __future__ import annotations

import os
import sys
import threading

TRAINING_NICENESS = 10  # the training thread's nice value: the GUI thread comes first


def limit_torch_threads(torch_module, *, spare_core: bool = True) -> int:
    """Run torch on every core, or on all but one: the one left to the GUI thread.

    torch's CPU kernels use every core by default; a training step would then compete with the
    GUI thread for all of them and the sliders would stutter, unless the trainer runs at a
    lower priority (`lower_thread_priority`): then the scheduler hands the GUI thread a core the
    moment it wakes, and keeping a core idle for it only slows training (about 1.25x on two
    cores, docs/benchmarks.md). Called from the worker thread, which is also the thread that
    runs the kernels (OpenMP's thread count is per calling thread; the threads it starts
    inherit the caller's priority).
    """
    spare = 1 if spare_core else 0
    threads = max(1, (os.cpu_count() or 1) - spare)
    torch_module.set_num_threads(threads)
    return threads


def lower_thread_priority(niceness: int = TRAINING_NICENESS) -> bool:
    """Let the calling thread yield the CPU to the GUI thread when cores are contended.

    With one core left to the GUI, a busy machine (a browser, a build) still takes that core at
    times, and the scheduler then shares it evenly between the GUI thread and the trainer: the
    sliders stutter. On Linux a thread has its own nice value (setpriority on its thread id);
    elsewhere this does nothing. False when the priority was left as it was.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    except OSError:
        return False
