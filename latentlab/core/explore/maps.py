"""Nonlinear maps of the encoded points: UMAP and t-SNE as cancellable jobs, cached on disk.

`map_job(mu, request, cancel)` is a generator: it yields `Progress` (stages, and epochs or
iterations where the library lets us see them) and returns a `LatentMap`, the (N, 2) float32
coordinates of the points in their stored order. Cancelling raises `JobCancelled` at the next
check: between stages, and (t-SNE: every 25 iterations, UMAP: every epoch) inside the layout.
umap-learn and openTSNE are imported inside the job, never on the app's start-up path.

A finished map is kept in the user cache folder (`cache_dir()`), named by a hash of what it
depends on: the encoded means themselves (so the same model opened from any path, or an
unsaved one, finds it), the method, its parameter and the seed. The file is an .npy written
atomically and read back with its size checked against its own header.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..jobs import Cancel, JobCancelled, Progress, check_cancelled, is_cancelled
from ..safe_read import FileRefused, open_regular, read_exact
from .projection import NonlinearProjection

METHODS = ("umap", "tsne")
METHOD_NAMES = {"umap": "UMAP", "tsne": "t-SNE"}
PARAMETER_NAMES = {"umap": "neighbours", "tsne": "perplexity"}
DEFAULT_PARAMETER = {"umap": 15, "tsne": 30}
PARAMETER_RANGE = {"umap": (2, 200), "tsne": (2, 100)}
MIN_POINTS = 5  # fewer and neither method has neighbours to speak of
CACHE_ENV = "LATENTLAB_MAP_CACHE"  # a folder to keep maps in instead of the user cache
CACHE_VERSION = 1  # part of every key: a change of how maps are made starts a fresh cache
POLL_S = 0.2  # how often the job looks at a running layout (and yields, a cancel point)
TSNE_ITERATIONS = 750  # openTSNE's default: 250 early exaggeration + 500 normal
TSNE_EVERY = 25  # t-SNE reports (and can stop) every this many iterations
_NPY_HEADER_MAX = 4096  # an .npy header of a (N, 2) float32 array is 128 bytes


@dataclass(frozen=True)
class MapRequest:
    """Which map: the method, its main parameter (UMAP's neighbours, t-SNE's perplexity)."""

    method: str
    parameter: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        low, high = PARAMETER_RANGE[self.method]
        if not low <= self.parameter <= high:
            name = PARAMETER_NAMES[self.method]
            raise ValueError(f"{name} must be in {low}..{high}, got {self.parameter}")

    @classmethod
    def default(cls, method: str) -> MapRequest:
        return cls(method, DEFAULT_PARAMETER.get(method, 0))

    @property
    def title(self) -> str:
        """`UMAP (15 neighbours)`, `t-SNE (perplexity 30)`."""
        if self.method == "umap":
            return f"UMAP ({self.parameter} neighbours)"
        return f"t-SNE (perplexity {self.parameter})"


@dataclass(frozen=True)
class LatentMap:
    """A finished map: (N, 2) float32 coordinates, one row per encoded point, and its request."""

    request: MapRequest
    coords: np.ndarray
    from_cache: bool = False


def as_projection(latent_map: LatentMap, mu: np.ndarray) -> NonlinearProjection:
    """The map as the scatter's projection, kind "umap" or "tsne", lifting through `mu`."""
    name = METHOD_NAMES[latent_map.request.method]
    return NonlinearProjection(
        latent_map.request.method,
        latent_map.coords,
        mu,
        (f"{name} 1 ({_parameter_words(latent_map.request)})", f"{name} 2"),
        name=name,
    )


# --- the cache ------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where maps are kept: $LATENTLAB_MAP_CACHE, else the user cache folder's `maps`."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("latentlab", "latentlab")) / "maps"


def cache_key(mu: np.ndarray, request: MapRequest) -> str:
    """A hex digest of everything the map depends on."""
    import hashlib  # ~10 ms of OpenSSL set-up: not on the app's start-up path

    mu = np.ascontiguousarray(mu, dtype=np.float32)
    h = hashlib.sha256()
    h.update(f"v{CACHE_VERSION}|{request.method}|{request.parameter}|{request.seed}|".encode())
    h.update(repr(mu.shape).encode())
    h.update(mu.tobytes())
    return h.hexdigest()[:40]


def cache_path(mu: np.ndarray, request: MapRequest, folder: Path | None = None) -> Path:
    folder = cache_dir() if folder is None else Path(folder)
    return folder / f"{request.method}-{cache_key(mu, request)}.npy"


def load_cached(mu: np.ndarray, request: MapRequest, folder: Path | None = None):
    """The cached map's (N, 2) float32 coordinates, or None (missing, damaged or not this map)."""
    path = cache_path(mu, request, folder)
    expected = (len(mu), 2)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            body = expected[0] * expected[1] * 4
            if size > _NPY_HEADER_MAX + body:  # bounded: never more than this map can be
                return None
            data = read_exact(f, size)
    except (OSError, FileRefused):
        return None
    try:
        coords = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if coords.shape != expected or coords.dtype != np.float32 or not np.isfinite(coords).all():
        return None
    return coords


def store(mu: np.ndarray, request: MapRequest, coords: np.ndarray, folder: Path | None = None):
    """Keep a map in the cache (atomically); returns its path."""
    path = cache_path(mu, request, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(coords, dtype=np.float32), allow_pickle=False)
    write_atomic(path, buffer.getvalue())
    return path


# --- computing ----------------------------------------------------------------------------------


def map_job(
    mu: np.ndarray,
    request: MapRequest,
    cancel: Cancel = None,
    *,
    use_cache: bool = True,
    folder: Path | None = None,
    isolated: bool = False,
) -> Generator[Progress, None, LatentMap]:
    """The map of `mu` (N, d): from the cache when it is there, else computed and cached."""
    mu = np.ascontiguousarray(mu, dtype=np.float32)
    if use_cache:
        yield Progress(0, 0, "looking for a stored map")
        cached = load_cached(mu, request, folder)
        if cached is not None:
            return LatentMap(request, cached, from_cache=True)
    coords = yield from compute_map(mu, request, cancel, isolated=isolated)
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only cache costs a recompute, nothing more
            store(mu, request, coords, folder)
    return LatentMap(request, coords)


def compute_map(
    mu: np.ndarray, request: MapRequest, cancel: Cancel = None, *, isolated: bool = False
) -> Generator[Progress, None, np.ndarray]:
    """(N, 2) float32 coordinates of `mu`, standardised: centred, unit spread along x.

    `isolated`: lay out in a child process (the app: the library cannot stall its GUI thread).
    """
    mu = np.ascontiguousarray(mu, dtype=np.float32)
    if len(mu) < MIN_POINTS:
        raise ValueError(f"a map needs at least {MIN_POINTS} points, got {len(mu)}")
    if not np.isfinite(mu).all():
        raise ValueError("the encoded points are not all finite")
    check_cancelled(cancel)
    if isolated:
        coords = yield from _in_child_process(mu, request, cancel)
    elif request.method == "umap":
        coords = yield from _umap(mu, request, cancel)
    else:
        coords = yield from _tsne(mu, request, cancel)
    check_cancelled(cancel)
    return _standardised(np.asarray(coords, dtype=np.float64))


def _in_child_process(mu: np.ndarray, request: MapRequest, cancel: Cancel):
    """The layout in a spawned process, its progress relayed; a cancel ends the process.

    umap's numba code and pynndescent hold the GIL for seconds at a time: in a thread of the
    app they would freeze its window (a 10 ms heartbeat ran up to 1.1 s late). A process has
    its own GIL, and stopping it is immediate.
    """
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(
        target=_child_main, args=(mu, request, messages), name="latentlab-map", daemon=True
    )
    child.start()
    try:
        while True:
            if is_cancelled(cancel):
                raise JobCancelled()
            try:
                kind, value = messages.get(timeout=POLL_S)
            except queues.Empty:
                if not child.is_alive() and messages.empty():
                    ended = f"the map process ended (exit code {child.exitcode})"
                    raise RuntimeError(ended) from None
                continue
            if kind == "progress":
                yield Progress(*value)
            elif kind == "done":
                return value
            else:
                raise RuntimeError(value)
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)
        messages.close()


def _child_main(mu: np.ndarray, request: MapRequest, messages) -> None:
    """The spawned process: run the layout, send each `Progress`, then the coordinates."""
    try:
        job = _umap(mu, request, None) if request.method == "umap" else _tsne(mu, request, None)
        while True:
            try:
                progress = next(job)
            except StopIteration as end:
                messages.put(("done", np.asarray(end.value, np.float32)))
                return
            messages.put(("progress", (progress.done, progress.total, progress.stage)))
    except Exception as exc:
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def _standardised(coords: np.ndarray) -> np.ndarray:
    """Centred at 0 and scaled so the larger of the two spreads is 1: the same units, about,
    for every map and every parameter (the sizes a method prints are arbitrary)."""
    coords = coords - coords.mean(axis=0)
    spread = float(coords.std(axis=0).max()) or 1.0
    return (coords / spread).astype(np.float32)


class _Hooks:
    """What a library's progress hooks share with the job: the count so far, and whether to stop
    (the job was cancelled, or the generator was closed or had `JobCancelled` thrown in)."""

    def __init__(self, cancel: Cancel) -> None:
        self.cancel = cancel
        self.stop = threading.Event()
        self.done = self.total = 0
        self.stage = ""

    def stopping(self) -> bool:
        return self.stop.is_set() or is_cancelled(self.cancel)


class _EpochReport(io.StringIO):
    """A stand-in for umap's progress bar's file: the bar writes `n/total`; each write is a
    cancel point and the place the epoch is read from (umap has no other way to look in)."""

    _COUNT = re.compile(r"(\d+)/(\d+)")

    def __init__(self, hooks: _Hooks) -> None:
        super().__init__()
        self.hooks = hooks

    def write(self, text: str) -> int:
        found = self._COUNT.findall(text)
        if found:
            self.hooks.done, self.hooks.total = (int(v) for v in found[-1])
            self.hooks.stage = "laying out (UMAP)"
        if self.hooks.stopping():
            raise JobCancelled()
        return len(text)

    def flush(self) -> None:
        pass


def _polled(fit, hooks: _Hooks, cancel: Cancel):
    """Run `fit()` on a helper thread, yielding `Progress` a few times a second until it ends.

    The library holds the job's thread for minutes in one call; polling it from the generator
    keeps every yield a cancel point. A cancel (the token, or `JobCancelled` thrown in at a
    yield) asks the hooks to stop and waits for the library to reach its next hook.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fit()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="latentlab-map", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL_S)
            if thread.is_alive():
                yield Progress(hooks.done, hooks.total, hooks.stage)
            if is_cancelled(cancel):
                hooks.stop.set()
    except BaseException:
        hooks.stop.set()
        thread.join()
        raise
    thread.join()
    if hooks.stopping():
        raise JobCancelled()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    # The last stage reached, always said once: a fit shorter than one poll said nothing yet.
    yield Progress(hooks.total or hooks.done, hooks.total, hooks.stage)
    return outcome["value"]


def _umap(mu: np.ndarray, request: MapRequest, cancel: Cancel):
    yield Progress(0, 0, "loading UMAP")
    import umap  # heavy (numba): only here

    check_cancelled(cancel)
    hooks = _Hooks(cancel)
    hooks.stage = "finding neighbours (UMAP)"
    n_neighbors = min(request.parameter, len(mu) - 1)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=2,
        random_state=request.seed,
        n_jobs=1,  # a fixed seed is one thread in umap anyway; it says so if asked for more
        tqdm_kwds={
            "disable": False,
            "file": _EpochReport(hooks),
            "bar_format": "{n}/{total}",
            "mininterval": 0,
        },
        init="spectral" if len(mu) > 2 * n_neighbors else "random",
    )
    yield Progress(0, 0, hooks.stage)
    coords = yield from _polled(lambda: reducer.fit_transform(mu), hooks, cancel)
    return coords


def _tsne(mu: np.ndarray, request: MapRequest, cancel: Cancel):
    yield Progress(0, 0, "loading t-SNE")
    from openTSNE import TSNE

    check_cancelled(cancel)
    hooks = _Hooks(cancel)
    hooks.stage = "finding neighbours (t-SNE)"
    hooks.total = TSNE_ITERATIONS
    perplexity = float(min(request.parameter, max(1, (len(mu) - 1) // 3)))

    def on_iteration(_iteration: int, _error: float, _embedding: np.ndarray) -> bool:
        hooks.done = min(hooks.done + TSNE_EVERY, hooks.total)
        hooks.stage = "laying out (t-SNE)"
        return hooks.stopping()  # True stops the optimisation

    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        random_state=request.seed,
        n_jobs=1,
        callbacks=on_iteration,
        callbacks_every_iters=TSNE_EVERY,
        verbose=False,
    )
    yield Progress(0, hooks.total, hooks.stage)
    embedding = yield from _polled(lambda: tsne.fit(mu), hooks, cancel)
    return np.asarray(embedding)


def _parameter_words(request: MapRequest) -> str:
    if request.method == "umap":
        return f"{request.parameter} neighbours"
    return f"perplexity {request.parameter}"
