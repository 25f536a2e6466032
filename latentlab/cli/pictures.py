"""`latentlab sample`, `manifold` and `morph`: pictures decoded from a model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import in_range
from .models import _explorer_state


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ..core.explore.sampling import MAX_ROWS, sample_grid, save_grid_png
    from ..core.vae.checkpoint import load_model
    from ..core.vae.config import MAX_SEED
    from ..core.vae.latent_model import VaeModel

    in_range("--rows", args.rows, 1, MAX_ROWS)
    in_range("--seed", args.seed, 0, MAX_SEED)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise LatentlabError(f"{shown_path(out)}: --out must end in .png or .npy")
    record = load_model(args.file)
    grid = sample_grid(VaeModel(record), rows=args.rows, seed=args.seed)
    if out.suffix.lower() == ".npy":
        import io

        from ..core.atomic import write_atomic

        buffer = io.BytesIO()
        np.save(buffer, grid)
        write_atomic(out, buffer.getvalue())
    else:
        save_grid_png(grid, out)
    print(f"wrote {shown_path(out)} ({args.rows} rows x {grid.shape[1]} columns)")
    return 0


def cmd_manifold(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..core.explore.manifold import decode_manifold, save_manifold_png
    from ..core.vae.checkpoint import load_model

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise LatentlabError(f"{shown_path(out)}: --out must end in .png")
    record = load_model(args.file)
    try:
        state = _explorer_state(record)
        if args.dims:
            i, j = args.dims
            if i == j or not (1 <= i <= state.latent_dim and 1 <= j <= state.latent_dim):
                raise ValueError(f"--dims needs two different dimensions in 1..{state.latent_dim}")
            state.set_projection("dims", i - 1, j - 1)
        if args.digit is not None:
            if not state.conditional:
                raise ValueError("--class needs a conditional model")
            state.set_class(args.digit)
        spacing = "gaussian" if args.gaussian else "even"
        grid = decode_manifold(
            state.model,
            state.projection,
            state.z,
            state.condition(),
            size=args.size,
            half_range=args.half_range,
            spacing=spacing,
        )
    except ValueError as exc:
        raise LatentlabError(str(exc)) from exc
    x, y = state.projection.titles
    if state.latent_dim == 1:  # one axis: every row of the grid would be the same
        grid = replace(grid, images=grid.images[:1], ys=grid.ys[:1])
        save_manifold_png(grid, out)
        print(f"wrote {shown_path(out)}: {args.size} images along {x} (a 1-D model: one row)")
        return 0
    save_manifold_png(grid, out)
    print(
        f"wrote {shown_path(out)}: {args.size} x {args.size} images over {x} and {y}, "
        f"{spacing} spacing"
    )
    return 0


def cmd_morph(args: argparse.Namespace) -> int:
    from ..core.explore.imaging import MAX_FRAME_MS, MIN_FRAME_MS
    from ..core.explore.morph import MAX_STEPS, MIN_STEPS, end_at_point, morph, save_morph
    from ..core.vae.checkpoint import load_model
    from ..core.vae.latent_model import VaeModel

    out = Path(args.out)
    if out.suffix.lower() not in (".gif", ".png"):
        raise LatentlabError(f"{shown_path(out)}: --out must end in .gif or .png")
    in_range("--steps", args.steps, MIN_STEPS, MAX_STEPS)
    in_range("--frame-ms", args.frame_ms, MIN_FRAME_MS, MAX_FRAME_MS)
    record = load_model(args.file)
    try:
        model, points = VaeModel(record), record.test_encoding
        a, b = end_at_point(model, points, args.start), end_at_point(model, points, args.end)
        kind = "slerp" if args.slerp else "linear"
        result = morph(model, a, b, args.steps, kind)
    except (ValueError, IndexError) as exc:
        raise LatentlabError(str(exc)) from exc
    save_morph(result.frames, out, frame_ms=args.frame_ms)
    print(f"wrote {shown_path(out)}: {a.label} -> {b.label}, {len(result)} frames, {kind}")
    return 0
