"""`latentlab decode`, `sample`, `manifold` and `morph`: pictures decoded from any model.

Each works on whatever `LatentModel` the file opens as, at its image size, grey or colour:
pictures are the app's (dark ink on white paper for grey models, colour for RGB ones), and every
enlargement is by whole pixels (`--scale N`, nearest neighbour). Without `--scale` a tile is
shown at about the size the app shows a 28 x 28 digit at (2x in grids, 4x in a GIF).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import (
    check_picture,
    class_index,
    default_scale,
    in_range,
    kind_words,
    latent_vector,
    open_state,
    output_path,
    save_npy,
)

if TYPE_CHECKING:
    import numpy as np

GRID_TILE_PX = 56  # a grid tile or a strip frame without --scale: a 28 x 28 digit at 2x
STRIP_TILE_PX = 84  # a PNG morph strip: 3x
GIF_FRAME_PX = 112  # a GIF frame: 4x


def add_scale(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help=f"enlarge each pixel to N x N (nearest neighbour; default {default})",
    )


def add_class(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--class",
        dest="class_",
        metavar="C",
        help=f"class to decode {what}, by name or index (a name wins: `--class 7` is the class "
        "named 7 if there is one, else index 7)",
    )


def _scaled(picture: np.ndarray, scale: int, count: int = 1) -> np.ndarray:
    from ..core.explore.imaging import upscale

    check_picture(scale, picture.shape[0], picture.shape[1], count)
    return upscale(picture, scale)


def cmd_decode(args: argparse.Namespace) -> int:
    from ..core.explore.imaging import picture_uint8, save_png
    from ..core.explore.latent_model import decode_one

    out = output_path(args.out, (".png", ".npy"))
    scale = 1 if args.scale is None else args.scale
    state = open_state(args.file)
    model = state.model
    spec = model.image_spec
    z = latent_vector(model, args.z, "--z")
    index = class_index(model, args.class_)
    if out.suffix.lower() == ".png":
        check_picture(scale, spec.height, spec.width)
    condition = None
    if model.conditional:
        condition = model.condition(0 if index is None else index)
    image = decode_one(model, z, condition).astype("float32")  # (H, W, C) in [0, 1]
    if out.suffix.lower() == ".npy":
        save_npy(image, out)
    else:
        save_png(_scaled(picture_uint8(image), scale), out)
    what = f"one {kind_words(spec)} image"
    if model.conditional:
        name = model.class_names[0 if index is None else index]
        what += f" of class {name}" + (
            " (the default; choose with --class)" if index is None else ""
        )
    size = f" at {scale}x" if out.suffix.lower() == ".png" and scale != 1 else ""
    print(f"wrote {shown_path(out)}: {what}{size}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from ..core.explore.imaging import save_png
    from ..core.explore.sampling import MAX_ROWS, grid_picture, sample_grid
    from ..core.vae.config import MAX_SEED

    in_range("--rows", args.rows, 1, MAX_ROWS)
    in_range("--seed", args.seed, 0, MAX_SEED)
    out = output_path(args.out, (".png", ".npy"))
    state = open_state(args.file)
    model = state.model
    index = class_index(model, args.class_)
    scale = default_scale(model.image_spec, GRID_TILE_PX) if args.scale is None else args.scale
    if out.suffix.lower() == ".png":
        check_picture(scale, *_grid_size(args.rows, _columns(model, index), model.image_spec))
    _choose_styles(model, getattr(args, "styles", "auto"))
    grid = sample_grid(model, rows=args.rows, seed=args.seed, class_index=index)
    if out.suffix.lower() == ".npy":
        save_npy(grid, out)
    else:
        save_png(_scaled(grid_picture(grid, scale=1), scale), out)
    of = f", all of class {model.class_names[index]}" if index is not None else ""
    drawn = getattr(model, "sampling_description", "the prior N(0, I)")
    print(
        f"wrote {shown_path(out)} ({args.rows} rows x {grid.shape[1]} columns{of}; styles from {drawn})"
    )
    return 0


def _choose_styles(model: Any, styles: str) -> None:
    """--styles: a latentlab model draws from its class mixture or N(0, I); others the prior."""
    if hasattr(model, "sample_source"):
        try:
            model.sample_source = styles
        except ValueError as exc:
            raise LatentlabError(str(exc)) from None
    elif styles == "mixture":
        raise LatentlabError("--styles mixture: this model has no class density")


def _columns(model: Any, index: int | None) -> int:
    from ..core.explore.sampling import COLUMNS_PLAIN

    return len(model.class_names) if model.conditional and index is None else COLUMNS_PLAIN


def _grid_size(rows: int, cols: int, spec: Any, pad: int = 2) -> tuple[int, int]:
    """Height and width of a tiled grid at scale 1 (as `imaging.tile` lays it out)."""
    return rows * (spec.height + pad) + pad, cols * (spec.width + pad) + pad


def cmd_manifold(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..core.explore.imaging import save_png
    from ..core.explore.manifold import MAX_SIZE, MIN_SIZE, decode_manifold

    out = output_path(args.out, (".png",))
    state = open_state(args.file)
    model = state.model
    scale = default_scale(model.image_spec, GRID_TILE_PX) if args.scale is None else args.scale
    one_row = state.latent_dim == 1  # one axis: every row of the grid would be the same
    if MIN_SIZE <= args.size <= MAX_SIZE:
        rows = 1 if one_row else args.size
        spec = model.image_spec
        check_picture(scale, rows * spec.height, args.size * spec.width)
    chosen = None  # "dimensions I and J" when --dims picked them
    try:
        if args.dims:
            i, j = args.dims
            top = state.latent_dim - 1
            if state.latent_dim < 2:
                raise ValueError("--dims needs a model with at least 2 latent dimensions")
            if i == j or not (0 <= i <= top and 0 <= j <= top):
                raise ValueError(
                    f"--dims needs two different dimensions in 0..{top} (counted from 0), "
                    f"got {i} and {j}"
                )
            state.set_projection("dims", i, j)
            chosen = f"dimensions {i} and {j}"
        index = class_index(model, args.class_)
        if index is not None:
            state.set_class(index)
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
    axes = f"{x} and {y}" if chosen is None else f"{chosen} ({x}, {y})"
    if one_row:
        grid = replace(grid, images=grid.images[:1], ys=grid.ys[:1])
        save_png(_scaled(grid.picture(scale=1), scale), out)
        print(f"wrote {shown_path(out)}: {args.size} images along {x} (a 1-D model: one row)")
        return 0
    save_png(_scaled(grid.picture(scale=1), scale), out)
    print(
        f"wrote {shown_path(out)}: {args.size} x {args.size} images over {axes}, {spacing} spacing"
    )
    return 0


def cmd_morph(args: argparse.Namespace) -> int:
    from ..core.explore.imaging import MAX_FRAME_MS, MIN_FRAME_MS
    from ..core.explore.morph import MAX_STEPS, MIN_STEPS, morph, save_morph

    out = output_path(args.out, (".gif", ".png"))
    in_range("--steps", args.steps, MIN_STEPS, MAX_STEPS)
    in_range("--frame-ms", args.frame_ms, MIN_FRAME_MS, MAX_FRAME_MS)
    state = open_state(args.file)
    model = state.model
    spec = model.image_spec
    gif = out.suffix.lower() == ".gif"
    side = GIF_FRAME_PX if gif else STRIP_TILE_PX
    scale = default_scale(spec, side) if args.scale is None else args.scale
    if gif:
        check_picture(scale, spec.height, spec.width, args.steps)
    else:
        check_picture(scale, *_grid_size(1, args.steps, spec))
    index = class_index(model, args.class_)
    if index is not None and args.start_z is None and args.end_z is None:
        raise LatentlabError(
            "--class sets the class of a --from-z / --to-z end; test points bring their own"
        )
    a = _morph_end(state, args.start, args.start_z, index, "--from")
    b = _morph_end(state, args.end, args.end_z, index, "--to")
    kind = "slerp" if args.slerp else "linear"
    try:
        result = morph(model, a, b, args.steps, kind)
    except ValueError as exc:
        raise LatentlabError(str(exc)) from exc
    save_morph(result.frames, out, frame_ms=args.frame_ms, scale=scale)
    print(f"wrote {shown_path(out)}: {a.label} -> {b.label}, {len(result)} frames, {kind}")
    return 0


def _morph_end(state: Any, index: int | None, z_text: str | None, klass: int | None, option: str):
    """One end of a morph: encoded test point `index`, or the vector `--from-z` / `--to-z`."""
    from ..core.explore.morph import MorphEnd, end_at_point

    model = state.model
    if z_text is None:
        if state.points is None or len(state.points) == 0:
            raise LatentlabError(
                f"{option} needs encoded test points, and this model has none (no encoder); "
                f"give a latent vector instead: {option}-z=v1,v2,..."
            )
        try:
            return end_at_point(model, state.points, index)
        except (ValueError, IndexError) as exc:
            raise LatentlabError(str(exc)) from exc
    z = latent_vector(model, z_text, f"{option}-z")
    shown = ", ".join(f"{v:g}" for v in z[:4]) + (", ..." if len(z) > 4 else "")
    if not model.conditional:
        return MorphEnd(z, None, f"z ({shown})")
    digit = 0 if klass is None else klass
    return MorphEnd(z, digit, f"z ({shown}) ({model.class_names[digit]})")
