"""Imported ONNX models (issue 15's performance): slider decode, start-up, `latentlab import`.

The models are made here, in a scratch folder, by a subprocess that imports torch: a 64x64 RGB
convolutional decoder (a linear layer to 128 x 4 x 4, then four stride-2 transposed convolutions
128 -> 64 -> 32 -> 16 -> 3, sigmoid) and its mirror-image encoder (four stride-2 convolutions,
then the mean and log-variance), exported with `torch.onnx.export` as a user would, and imported
with `latentlab.core.imported.importer` decoder-only, and with 10,000 64x64 RGB images (an .npy
written in the scratch folder). The weights are random, but the encoder's means are scaled to
spread as N(0, 1) over those images, as a trained VAE's do (so the scatter and the sliders' range
look like a real model's, and the marker stays in view).

- slider: in a fresh process without torch, `ExplorerState.set_slider` + `state.decode()` per
  step of a random walk over the sliders (the app's slider path minus Qt), and, alternately after
  each step, a bare `onnxruntime.InferenceSession.run` of the same graph file on the same z;
  then the real window (`gui_timing.open_window` on the imported file): slider -> image painted.
- startup: `bench_startup`'s harness (the real app, offscreen, a fresh process per start) given
  the imported files; which heavy modules were imported by the time the model was interactive.
- throughput: `import_model` (inspect, encode in chunks, write) of the .npy, alternately with a
  bare onnxruntime loop over the same memory-mapped images in the importer's chunk size; then the
  import alone in a fresh process for its peak RSS (ru_maxrss).

Only the standard library is imported at the top; every harness runs in its own subprocess.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "import"
PARTS = ("slider", "startup", "throughput")
DESCRIPTION = "imported ONNX models: slider decode vs bare onnxruntime, start-up, import speed"

PARAMS_ENV = "LATENTLAB_BENCH_IMPORT"
LATENT_DIM = 16
SIDE = 64  # 64x64 RGB, as the targets say
CHANNELS = (128, 64, 32, 16)  # the decoder's widths, 4x4 up to 32x32 (the encoder's reversed)
FULL = {"moves": 500, "rounds": 5, "window_moves": 300, "starts": 5, "images": 10_000, "imports": 3}
QUICK = {
    "moves": 200,
    "rounds": 2,
    "window_moves": 100,
    "starts": 2,
    "images": 10_000,
    "imports": 1,
}
TARGETS = {
    "decode_p50": "<= 2",
    "decode_p99": "<= 6",
    "overhead": "<= 1.5",
    "interactive": "<= 1.0",
    "throughput": ">= 0.5",
}

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\nimport bench_import; bench_import.{name}()\n"
)


# --- subprocess plumbing -----------------------------------------------------------------------


def _params() -> dict[str, Any]:
    return json.loads(os.environ.get(PARAMS_ENV, "{}") or "{}")


def _answer(out: dict[str, Any]) -> None:
    print(json.dumps(out), flush=True)


def _call(name: str, params: dict[str, Any], timeout: float, env: dict[str, str] | None = None):
    """Run `bench_import.<name>()` in a fresh interpreter; (its JSON answer or None, why)."""
    from common import BENCH_DIR, REPO, python_env, run_json_subprocess

    env = dict(env or python_env())
    env[PARAMS_ENV] = json.dumps(params)
    code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR), name=name)
    return run_json_subprocess(code, env, timeout)


# --- the models and the data (made once per run, in a scratch folder) --------------------------


def build_graphs() -> None:
    """Subprocess: export the conv decoder and encoder to ONNX (the only place torch is used)."""
    import warnings

    import torch
    from torch import nn

    p = _params()
    folder, d, side = Path(p["folder"]), p["latent_dim"], p["side"]
    widths = p["channels"]
    torch.manual_seed(0)
    start = side // 2 ** len(widths)

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(d, widths[0] * start * start)
            layers: list[nn.Module] = []
            for a, b in zip(widths, [*widths[1:], 3], strict=True):
                layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.ReLU()]
            layers[-1] = nn.Sigmoid()
            self.net = nn.Sequential(*layers)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.net(torch.relu(self.fc(z)).view(-1, widths[0], start, start))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            for a, b in zip([3, *widths[::-1][:-1]], widths[::-1], strict=True):
                layers += [nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()]
            self.net = nn.Sequential(*layers, nn.Flatten())
            self.mean = nn.Linear(widths[0] * start * start, d)
            self.logvar = nn.Linear(widths[0] * start * start, d)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.net(x)
            return self.mean(h), self.logvar(h) - 4  # small variances, as a trained VAE's

    encoder = Encoder().eval()
    with torch.no_grad():  # means spread as N(0, 1) over the data, as a trained VAE's are
        import numpy as np

        sample = np.load(p["calibrate"], mmap_mode="r")[:512]
        x = torch.from_numpy(np.ascontiguousarray(sample)).permute(0, 3, 1, 2).float() / 255
        mean = encoder.mean(encoder.net(x))
        centre, spread = mean.mean(0), mean.std(0) + 1e-8
        encoder.mean.weight.div_(spread[:, None])
        encoder.mean.bias.sub_(centre).div_(spread)
    batch = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            Decoder().eval(),
            (torch.zeros(1, d),),
            folder / "decoder.onnx",
            dynamo=False,
            input_names=["z"],
            output_names=["image"],
            dynamic_axes={"z": batch, "image": batch},
        )
        torch.onnx.export(
            encoder,
            (torch.zeros(1, 3, side, side),),
            folder / "encoder.onnx",
            dynamo=False,
            input_names=["image"],
            output_names=["mean", "logvar"],
            dynamic_axes={"image": batch, "mean": batch, "logvar": batch},
        )
    _answer({"ok": True})


def write_images(path: Path, n: int, side: int, seed: int = 0) -> Path:
    """(n, side, side, 3) uint8 blobs on noise as an .npy, written a block at a time."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, side, side, 3))
    yy, xx = np.mgrid[0:side, 0:side]
    for start in range(0, n, 1000):
        k = min(1000, n - start)
        block = rng.integers(0, 60, (k, side, side, 3), dtype=np.uint8)
        centres = rng.uniform(0, side, (k, 2))
        colours = rng.integers(60, 256, (k, 3), dtype=np.uint8)
        for i in range(k):
            inside = (yy - centres[i, 0]) ** 2 + (xx - centres[i, 1]) ** 2 < (side / 4) ** 2
            block[i][inside] = colours[i]
        out[start : start + k] = block
    out.flush()
    del out
    return path


class Scratch:
    """The benchmark's files, each made the first time a part needs it."""

    def __init__(self, folder: Path, images: int, side: int = SIDE) -> None:
        self.folder, self.images, self.side = folder, images, side
        self._made: dict[str, Path] = {}

    def graphs(self) -> tuple[Path, Path]:
        if "decoder" not in self._made:
            params = {
                "folder": str(self.folder),
                "latent_dim": LATENT_DIM,
                "side": self.side,
                "channels": list(CHANNELS),
                "calibrate": str(self.data()),
            }
            out, why = _call("build_graphs", params, 300)
            if out is None:
                raise RuntimeError(f"exporting the graphs failed: {why}")
            self._made["decoder"] = self.folder / "decoder.onnx"
            self._made["encoder"] = self.folder / "encoder.onnx"
        return self._made["decoder"], self._made["encoder"]

    def data(self) -> Path:
        if "data" not in self._made:
            self._made["data"] = write_images(self.folder / "images.npy", self.images, self.side)
        return self._made["data"]

    def decoder_only(self) -> Path:
        if "decoder_only" not in self._made:
            from latentlab.core.imported.importer import ImportRequest, import_model

            decoder, _ = self.graphs()
            out = self.folder / "decoder-only.latentlab"
            self._made["decoder_only"] = import_model(ImportRequest(decoder=decoder), out)
        return self._made["decoder_only"]

    def request(self) -> dict[str, str]:
        decoder, encoder = self.graphs()
        return {"decoder": str(decoder), "encoder": str(encoder), "data": str(self.data())}

    def with_data(self) -> Path:
        """The model with every image encoded (made by the throughput part when it runs)."""
        if "with_data" not in self._made:
            from latentlab.core.imported.importer import ImportRequest, import_model

            r = self.request()
            request = ImportRequest(Path(r["decoder"]), Path(r["encoder"]), data=Path(r["data"]))
            self._made["with_data"] = import_model(request, self.folder / "with-data.latentlab")
        return self._made["with_data"]


# --- slider: the explorer state's decode vs bare onnxruntime -----------------------------------


def slider_harness() -> None:
    """Subprocess: alternate state.set_slider + state.decode() and a bare session.run per step."""
    import random

    import onnxruntime as ort

    from latentlab.core.explore.state import ExplorerState
    from latentlab.core.model_files import open_document

    p = _params()
    state = ExplorerState()
    state.open(open_document(p["model"]))
    bare = ort.InferenceSession(p["graph"], providers=["CPUExecutionProvider"])
    z_name = bare.get_inputs()[0].name
    rng = random.Random(p.get("seed", 0))
    d, r = state.latent_dim, state.slider_range
    clock = time.perf_counter

    def rounds(count: int) -> tuple[list[float], list[float]]:
        ours, theirs = [], []
        for step in range(count):
            value = rng.uniform(-r, r)
            t0 = clock()
            state.set_slider(step % d, value)
            image = state.decode()
            t1 = clock()
            z = state.z[None]
            t2 = clock()
            bare.run(None, {z_name: z})
            t3 = clock()
            ours.append(t1 - t0)
            theirs.append(t3 - t2)
        assert image.shape == (p["side"], p["side"], 3)
        return ours, theirs

    rounds(50)  # warm-up: first runs allocate the sessions' buffers
    out: dict[str, Any] = {"state": [], "bare": [], "latent_dim": d}
    for _ in range(p["rounds"]):
        ours, theirs = rounds(p["moves"])
        out["state"].append(ours)
        out["bare"].append(theirs)
    _answer(out)


def window_harness() -> None:
    """Subprocess: the real window on each imported file, slider moves to the pixels painted.

    A decoder-only file has no scatter, so only the image's viewport is waited for; a file with
    points waits for the image and the scatter's marker, as bench_gui does for native models.
    An exception raised in a slot while opening (printed by Qt, not raised) ends that model.
    """
    try:
        import gui_timing as gt
    except Exception as exc:  # no Qt here
        _answer({"error": f"GUI not importable: {type(exc).__name__}: {exc}"})
        return
    p = _params()
    raised: list[str] = []
    hook = sys.excepthook

    def record(kind: type, exc: BaseException, tb: Any) -> None:
        import traceback

        where = traceback.extract_tb(tb)[-1]
        what = f"{kind.__name__} in {Path(where.filename).name}:{where.lineno}"
        raised.append(f"{what}: {exc}" if str(exc) else what)
        hook(kind, exc, tb)

    sys.excepthook = record
    out: dict[str, Any] = {"models": {}}
    for label, path in p["models"]:
        raised.clear()
        window = gt.open_window(Path(path), timeout_s=10)
        try:
            if raised:
                out["models"][label] = {"error": f"the window raised {raised[0]}"}
                continue
            with_points = window.state.points is not None
            probe = (
                gt.window_probe(window)
                if with_points
                else gt.PaintProbe([window.image_view._view.viewport()])
            )
            warm = gt.Timings()
            gt.slider_moves(window, probe, 30, 999, warm)
            if warm.misses > 10:  # each miss waits 0.5 s: say so instead of waiting minutes
                out["models"][label] = {"error": f"{warm.misses} of 30 moves not painted"}
                continue
            rounds = []
            for r in range(p["rounds"]):
                timings = gt.Timings()
                gt.slider_moves(window, probe, p["moves"], r, timings)
                rounds.append(timings.as_dict())
            what = "image + marker" if with_points else "image"
            out["models"][label] = {"rounds": rounds, "what": what}
        finally:
            from latentlab.gui.file_actions import discard_unsaved

            window.files.ask_unsaved = discard_unsaved
            window.close()
            window.deleteLater()
            gt.spin(0.05)
    _answer(out)


def slider_results(out: dict[str, Any] | None, why: str, note: str) -> list[Result]:
    from common import ratios, result_from, tail_result, unavailable

    names = (
        ("slider step: set_slider + state.decode(), p50", "ms", TARGETS["decode_p50"]),
        ("slider step: set_slider + state.decode(), p99", "ms", TARGETS["decode_p99"]),
        ("slider step / bare onnxruntime run, per round", "x", TARGETS["overhead"]),
    )
    if out is None or "state" not in out:
        reason = why or (out or {}).get("error", "no result")
        return [unavailable(n, u, t, f"not available: {reason}") for n, u, t in names]
    ours = [[1000 * s for s in r] for r in out["state"]]
    theirs = [[1000 * s for s in r] for r in out["bare"]]
    count = sum(len(r) for r in ours)
    import statistics

    per_round = ratios([statistics.median(r) for r in ours], [statistics.median(r) for r in theirs])
    return [
        tail_result(names[0][0], ours, 50, "ms", names[0][2], f"{count} steps; {note}"),
        tail_result(names[1][0], ours, 99, "ms", names[1][2]),
        result_from(
            "bare onnxruntime InferenceSession.run, same z, p50",
            [statistics.median(r) for r in theirs],
            "ms",
            note="taken right after each slider step (A, B, A, B)",
        ),
        result_from(names[2][0], per_round, "x", names[2][2], "median step over median bare run"),
    ]


def window_results(out: dict[str, Any] | None, why: str) -> list[Result]:
    from common import result_from, tail_result, unavailable

    if out is None or "models" not in out:
        reason = why or (out or {}).get("error", "no result")
        return [unavailable("window: slider -> painted", "ms", TARGETS["decode_p50"], reason)]
    rows: list[Result] = []
    for label, model in out["models"].items():
        name = f"window on {label}: slider -> {model.get('what', 'image')} painted"
        if "rounds" not in model:
            rows.append(unavailable(f"{name}, median", "ms", TARGETS["decode_p50"], model["error"]))
            continue
        rounds = model["rounds"]
        per_round = [[1000 * s for s in r["total"]] for r in rounds]
        samples = [s for r in per_round for s in r]
        misses = sum(r["misses"] for r in rounds)
        note = f"{len(samples)} moves" + (f", {misses} not painted" if misses else "")
        cpu = [1000 * s for r in rounds for s in r["cpu"]]
        rows += [
            result_from(f"{name}, median", samples, "ms", TARGETS["decode_p50"], note),
            tail_result(f"{name}, p99", per_round, 99, "ms", TARGETS["decode_p99"]),
            result_from(f"window on {label}: slider, GUI-thread CPU time, median", cpu, "ms"),
        ]
    return rows


# --- startup: the real app on an imported file --------------------------------------------------


def startup_results(starts: list[dict[str, Any]], label: str) -> list[Result]:
    from bench_startup import HEAVY_MODULES
    from common import result_from, unavailable

    errors = [m["error"] for m in starts if "error" in m]
    name = f"app on {label}: start to model interactive"
    if not starts or all("interactive" not in m for m in starts):
        why = "not available: " + (errors[0] if errors else "no run")
        return [unavailable(name, "s", TARGETS["interactive"], why)]
    note = f"{len(starts)} starts" + (f"; {errors[0]}" if errors else "")
    rows = [
        result_from(
            f"app on {label}: start to window painted",
            [m["painted"] for m in starts if "painted" in m],
            "s",
        ),
        result_from(
            name,
            [m["interactive"] for m in starts if "interactive" in m],
            "s",
            TARGETS["interactive"],
            note,
        ),
    ]
    heavy = [m.get("modules_at_interactive") for m in starts]
    if any(h is None for h in heavy):  # an older harness: torch only
        heavy = [["torch"] if m.get("torch_at_interactive") else [] for m in starts]
    loaded = sorted({name for h in heavy for name in h})
    rows.append(
        result_from(
            f"app on {label}: starts with {'/'.join(HEAVY_MODULES)} imported at interactive",
            [sum(bool(h) for h in heavy)],
            "runs",
            "<= 0",
            f"of {len(starts)}; "
            + (f"imported: {', '.join(loaded)}" if loaded else "none imported"),
        )
    )
    return rows


def run_starts(
    models: list[tuple[str, Path]], scratch: Path, count: int, args: argparse.Namespace
) -> dict[str, list[dict]]:
    """A warm-up and `count` app starts on each model, alternated (A, B, C, A, B, C...).

    A model whose start fails is not started again (the first failure is its answer).
    """
    import bench_startup as bs
    from common import data_dir

    envs = {label: bs.app_env(path, scratch, data_dir(args)) for label, path in models}
    starts: dict[str, list[dict]] = {label: [] for label in envs}
    failed: set[str] = set()
    for i in range(1 + count):  # the first round warms the bytecode and page caches
        for label, env in envs.items():
            if label in failed:
                continue
            marks = bs.run_app(env, timeout=30)
            if "interactive" not in marks:
                failed.add(label)
                starts[label] = [marks]
            elif i:
                starts[label].append(marks)
    return starts


def startup_ratio(starts: dict[str, list[dict]], label: str, peer: str) -> list[Result]:
    """Imported over native start-to-interactive, round by round (the same rounds)."""
    from common import ratios, result_from

    ours = [m["interactive"] for m in starts.get(label, []) if "interactive" in m]
    theirs = [m["interactive"] for m in starts.get(peer, []) if "interactive" in m]
    if not ours or len(ours) != len(theirs):
        return []
    return [
        result_from(
            f"app on {label} / on {peer}: start to interactive",
            ratios(ours, theirs),
            "x",
            note="alternated in the same rounds: what the imported file adds on this machine",
        )
    ]


# --- throughput: latentlab import vs bare onnxruntime, and the import's peak memory -------------


def throughput_harness() -> None:
    """Subprocess: alternate `import_model` and a bare onnxruntime loop over the same images."""
    import numpy as np
    import onnxruntime as ort

    from latentlab.core.imported.importer import CHUNK, ImportRequest, import_model

    p = _params()
    request = ImportRequest(Path(p["decoder"]), Path(p["encoder"]), data=Path(p["data"]))
    session = ort.InferenceSession(p["encoder"], providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    images = np.load(p["data"], mmap_mode="r")

    def ours() -> float:
        t0 = time.perf_counter()
        import_model(request, Path(p["out"]))
        return time.perf_counter() - t0

    def bare() -> float:
        t0 = time.perf_counter()
        for start in range(0, len(images), CHUNK):
            x = np.ascontiguousarray(images[start : start + CHUNK].transpose(0, 3, 1, 2))
            session.run(None, {name: x.astype(np.float32) / 255})
        return time.perf_counter() - t0

    out: dict[str, Any] = {"import": [], "bare": [], "images": len(images), "chunk": CHUNK}
    out["side"] = images.shape[1]
    for _ in range(p["imports"]):
        out["import"].append(ours())
        out["bare"].append(bare())
    out["file_bytes"] = Path(p["out"]).stat().st_size
    _answer(out)


def memory_harness() -> None:
    """Subprocess: one `import_model`, its peak RSS, and the RSS before it started."""
    import resource

    from latentlab.core.imported.importer import ImportRequest, import_model

    p = _params()
    request = ImportRequest(Path(p["decoder"]), Path(p["encoder"]), data=Path(p["data"]))
    import onnxruntime  # noqa: F401  (before the baseline, as import_model would)

    before = _rss_kb()
    import_model(request, Path(p["out"]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 if sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KiB on Linux
    _answer({"before_mb": before / 1024, "peak_mb": peak / scale / 1024})


def _rss_kb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def throughput_results(
    out: dict[str, Any] | None, why: str, memory: dict[str, Any] | None, memory_why: str
) -> list[Result]:
    from common import ratios, result_from, unavailable

    rows: list[Result] = []
    if out is None or "import" not in out:
        reason = why or (out or {}).get("error", "no result")
        rows.append(
            unavailable("import / bare onnxruntime throughput", "x", TARGETS["throughput"], reason)
        )
    else:
        n = out["images"]
        rows += [
            result_from(
                f"latentlab import of {n:,} {out['side']}x{out['side']} RGB images",
                out["import"],
                "s",
                note=f"inspect + encode in chunks of {out['chunk']} + write ({out['file_bytes'] / 1e6:.0f} MB file)",
            ),
            result_from(
                "bare onnxruntime, same encoder, same images",
                out["bare"],
                "s",
                note="memory-mapped .npy, /255, NCHW, session.run per chunk",
            ),
            result_from(
                "import / bare onnxruntime throughput",
                ratios(out["bare"], out["import"]),
                "x",
                TARGETS["throughput"],
                "per round (import, bare, import, bare...)",
            ),
            result_from("import throughput", [n / s for s in out["import"]], "images/s"),
        ]
    if memory is None or "peak_mb" not in memory:
        rows.append(unavailable("import peak RSS (ru_maxrss)", "MB", "", memory_why or "no result"))
    else:
        n = (out or {}).get("images")
        data_mb = memory.get("data_mb")
        rows.append(
            result_from(
                "import peak RSS (ru_maxrss)",
                [memory["peak_mb"]],
                "MB",
                note=f"fresh process; {memory['before_mb']:.0f} MB before the import; the data: {data_mb:.0f} MB on disk",
            )
        )
    return rows


# --- the parent side ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    import gui_setup as gp
    from common import log, selected_parts

    parts = selected_parts(args, NAME, PARTS)
    plan = dict(QUICK if getattr(args, "quick", False) else FULL)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-import-") as tmp:
        folder = Path(tmp)
        scratch = Scratch(folder, plan["images"])
        log(f"import: exporting the {SIDE}x{SIDE} RGB conv decoder and encoder to ONNX")
        decoder, _ = scratch.graphs()
        if "throughput" in parts:
            log(f"import.throughput: {plan['images']:,} images, {plan['imports']} rounds")
            request = scratch.request()
            params = {**request, "out": str(folder / "with-data.latentlab"), **plan}
            out, why = _call("throughput_harness", params, 1200)
            if out is not None:
                scratch._made["with_data"] = Path(params["out"])  # reused below
            params["out"] = str(folder / "memory.latentlab")
            memory, memory_why = _call("memory_harness", params, 1200)
            if memory is not None:
                memory["data_mb"] = Path(request["data"]).stat().st_size / 1e6
            results += throughput_results(out, why, memory, memory_why)
        models = [
            ("decoder-only import", scratch.decoder_only()),
            (f"import with {plan['images']:,} images", scratch.with_data()),
        ]
        if "slider" in parts:
            log(f"import.slider: {plan['rounds']} rounds of {plan['moves']} steps, then the window")
            params = {"model": str(models[0][1]), "graph": str(decoder), "side": SIDE, **plan}
            out, why = _call("slider_harness", params, 600)
            results += slider_results(out, why, "decoder-only import, fresh process")
            window = {
                "models": [[label, str(path)] for label, path in models],
                "rounds": plan["rounds"],
                "moves": plan["window_moves"],
            }
            env = gp.subprocess_env(folder, folder, window, PARAMS_ENV)
            out, why = _call("window_harness", window, 600, env)
            results += window_results(out, why)
        if "startup" in parts:
            import bench_startup as bs

            native, native_note = bs.resolve_model(args, folder)
            peer = f"native {native.name}"
            log(f"import.startup: {plan['starts']} starts on each imported file and {native_note}")
            starts = run_starts([*models, (peer, native)], folder, plan["starts"], args)
            for label, _ in [*models, (peer, native)]:
                results += startup_results(starts[label], label)
            for label, _ in models:
                results += startup_ratio(starts, label, peer)
    return results
