"""`latentlab map`: a UMAP or t-SNE map of a model's encoded points, cached for the app.

The map is computed once and kept where the app looks for it (`core.explore.maps.cache_dir`),
so the app then shows it at once; `--out` also writes the (N, 2) float32 coordinates, one row
per encoded point in the order the model file stores them. Ctrl+C stops the computation at its
next cancel point and writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import EXIT_CANCELLED, open_state, output_path, save_npy
from .train import ProgressBar


def add_map_parser(sub: argparse._SubParsersAction, commands: dict) -> None:
    """The `map` sub-command, registered in the CLI's command table `commands`."""
    from ..core.explore.maps import DEFAULT_PARAMETER, METHODS, PARAMETER_RANGE

    p = sub.add_parser(
        "map",
        help="compute (and cache for the app) a UMAP or t-SNE map of the encoded points",
        description=(
            "Compute a nonlinear 2-D map of a model's encoded points and keep it where the app "
            "looks, so Axes > UMAP / t-SNE then shows it at once. UMAP of 10,000 points takes "
            "about a minute on two cores, t-SNE about as long; a second run reads the cache."
        ),
    )
    p.add_argument("file", help="a model file with encoded points (any kind latentlab opens)")
    p.add_argument("--method", choices=METHODS, default="umap", help="the map (default: umap)")
    low, high = PARAMETER_RANGE["umap"]
    p.add_argument(
        "--neighbours",
        type=int,
        metavar="N",
        help=f"UMAP's neighbourhood size, {low}..{high} (default {DEFAULT_PARAMETER['umap']})",
    )
    low, high = PARAMETER_RANGE["tsne"]
    p.add_argument(
        "--perplexity",
        type=int,
        metavar="P",
        help=f"t-SNE's perplexity, {low}..{high} (default {DEFAULT_PARAMETER['tsne']})",
    )
    p.add_argument("--out", metavar="COORDS.npy", help="also write the (N, 2) float32 coordinates")
    p.add_argument("--no-cache", action="store_true", help="compute anew; neither read nor keep")
    commands["map"] = cmd_map


def cmd_map(args: argparse.Namespace) -> int:
    from ..core.explore.maps import DEFAULT_PARAMETER, MapRequest, cache_path, map_job
    from ..core.jobs import CancelToken, JobCancelled

    if args.method == "umap" and args.perplexity is not None:
        raise LatentlabError("--perplexity is t-SNE's; UMAP takes --neighbours")
    if args.method == "tsne" and args.neighbours is not None:
        raise LatentlabError("--neighbours is UMAP's; t-SNE takes --perplexity")
    out = output_path(args.out, (".npy",)) if args.out else None
    given = args.neighbours if args.method == "umap" else args.perplexity
    try:
        request = MapRequest(
            args.method, DEFAULT_PARAMETER[args.method] if given is None else given
        )
    except ValueError as exc:
        option = "--neighbours" if args.method == "umap" else "--perplexity"
        raise LatentlabError(f"{option}: {exc}") from None
    state = open_state(args.file)
    points = state.points
    if points is None:
        raise LatentlabError(
            f"{shown_path(args.file)}: the model has no encoded points to map (no encoder)"
        )
    print(f"{request.title} of {len(points):,} points of {shown_path(args.file)}", file=sys.stderr)
    started = time.monotonic()
    token = CancelToken()
    job = map_job(points.mu, request, token, use_cache=not args.no_cache)
    bar = ProgressBar(sys.stderr)
    last = ""
    try:
        while True:
            progress = next(job)
            if bar.enabled and progress.total:  # a terminal: one line redrawn in place
                bar.show(progress.done, progress.total, f"  {progress.stage}")
            elif progress.stage != last:  # else (or before the total is known) each stage once
                bar.clear()
                print(f"  {progress.stage} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
            last = progress.stage
    except StopIteration as end:
        result = end.value
        bar.clear()
    except KeyboardInterrupt:
        bar.clear()
        token.cancel()
        # The layout stops at its next cancel point; nothing is written.
        with contextlib.suppress(JobCancelled, StopIteration):
            job.throw(JobCancelled())
        print("latentlab: map cancelled; nothing written", file=sys.stderr)
        return EXIT_CANCELLED
    seconds = time.monotonic() - started
    where = "from the cache" if result.from_cache else f"computed in {seconds:.1f} s"
    if not args.no_cache:
        where += f", kept in {shown_path(cache_path(points.mu, request))}"
    print(f"map {where}", file=sys.stderr)
    if out is not None:
        save_npy(result.coords, out)
        print(f"wrote {shown_path(out)}: {result.coords.shape[0]:,} x 2 float32")
    return 0
