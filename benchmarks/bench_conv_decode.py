"""Slider-path decode time of a conv model against the MLP default, in numpy (no torch).

One latent point decoded per call, as a slider move does (`decode_one` through the model's
`LatentModel` adapter), after a warm-up; p50 / p99 / max over many calls, and the machine's load
average beside them (the p99 is what other processes on the cores cost). The target for the
slider path is p50 <= 2 ms, p99 <= 4 ms.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv_decode.py [--calls 3000] [--json FILE]
        [MODEL.safetensors ...]

Without model files it times the `conv-cvae` and `sharp-cvae` presets with random weights (the
time does not depend on the weights' values).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from latentlab.core.explore.latent_model import decode_one
from latentlab.core.vae.config import PRESETS
from latentlab.core.vae.latent_model import VaeModel
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord


def random_record(preset: str) -> ModelRecord:
    config = PRESETS[preset].config
    rng = np.random.default_rng(0)
    weights = {
        k: (0.05 * rng.standard_normal(s)).astype(np.float32)
        for k, s in parameter_shapes(config).items()
    }
    return ModelRecord(config=config, weights=weights)


def time_decode(model: VaeModel, calls: int, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((calls, model.latent_dim)).astype(np.float32)
    cond = model.condition(0) if model.conditional else None
    for i in range(min(200, calls)):  # warm-up: caches, BLAS threads, first-call costs
        decode_one(model, z[i], cond)
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        decode_one(model, z[i], cond)
        times[i] = time.perf_counter() - start
    ms = times * 1e3
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "calls": calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.models:
        from latentlab.core.vae.checkpoint import load_model

        models = {p.name: VaeModel(load_model(p)) for p in args.models}
    else:
        models = {
            f"{p} (random weights)": VaeModel(random_record(p)) for p in ("conv-cvae", "sharp-cvae")
        }
    load_before = os.getloadavg()[0]
    results = {name: time_decode(model, args.calls) for name, model in models.items()}
    load_after = os.getloadavg()[0]
    print(
        f"single decode, {args.calls} calls, OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load average "
        f"{load_before:.2f} -> {load_after:.2f} on {os.cpu_count()} cores"
    )
    for name, r in results.items():
        print(
            f"  {name:40s} p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  max {r['max_ms']:.2f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps({"load": [load_before, load_after], **results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
