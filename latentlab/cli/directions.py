"""`latentlab directions`: find a named direction in a model's latent space, or list those kept.

`--attribute NAME` fits the direction of a stroke measure (slant, thickness, width, height,
area: measured on the test images, found with --data-dir), the reconstruction error, or a
column of an imported model's attribute file; `--classes A,B` the direction from class A to B.
The name, kind and held-out score are printed; `--save` keeps the direction with the model (in
its file, or in a sidecar for a file latentlab must not change), where the app shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import class_index, open_state

RECON_NAMES = ("recon error", "recon-error", "recon_error", "reconstruction-error")


def add_directions_parser(sub: argparse._SubParsersAction, commands: dict) -> None:
    """The `directions` sub-command, registered in the CLI's command table `commands`."""
    p = sub.add_parser(
        "directions",
        help="find a named direction (an attribute, two classes) in the latent space, or list them",
    )
    p.add_argument("file")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--attribute",
        metavar="NAME",
        help="slant, thickness, width, height, area, recon-error, or an attribute column",
    )
    which.add_argument("--classes", metavar="A,B", help="from class A towards class B")
    p.add_argument(
        "--method",
        choices=("mean-difference", "logistic"),
        default="mean-difference",
        help="with --classes: the difference of the class means, or a logistic probe's weights",
    )
    p.add_argument("--name", help="the direction's name (default: the attribute's, or A → B)")
    p.add_argument("--seed", type=int, default=0, help="of the 80/20 held-out split")
    p.add_argument(
        "--data-dir", metavar="DIR", help="folder with the IDX files (or set LATENTLAB_DATA_DIR)"
    )
    p.add_argument("--save", action="store_true", help="keep it with the model for the app")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    commands["directions"] = cmd_directions


def cmd_directions(args: argparse.Namespace) -> int:
    from ..core.explore.direction_store import store_for

    state = open_state(args.file)
    document = state.document
    if args.attribute is None and args.classes is None:
        return _list(args, document)
    points = state.points
    if points is None:
        raise LatentlabError(
            f"{shown_path(args.file)}: the model has no encoded points to find a direction in"
        )
    direction = _classes(args, state) if args.classes is not None else _attribute(args, state)
    if args.name:
        direction = direction.renamed(args.name)
    saved = None
    if args.save:
        store = store_for(document)
        kept = [d for d in store.load() if d.name != direction.name]
        store.save([*kept, direction])
        saved = store.where
    if args.json:
        out: dict[str, Any] = direction.to_dict()
        out["points"] = direction.extra.get("points")
        out["held_out"] = direction.extra.get("held_out")
        out["saved"] = saved
        print(json.dumps(out))
        return 0
    print(f"{direction.name}: {direction.kind} from {direction.source}")
    held = direction.extra.get("held_out")
    print(
        f"  held-out {direction.score_text} ({held} of {direction.extra.get('points')} points "
        f"held out); slider: {direction.low} ↔ {direction.high}"
    )
    if saved:
        print(f"  kept {saved}")
    return 0


def _list(args: argparse.Namespace, document: Any) -> int:
    from ..core.explore.direction_store import store_for

    store = store_for(document)
    directions = store.load() if store is not None else []
    if args.json:
        print(json.dumps({"directions": [d.to_dict() for d in directions]}))
        return 0
    if not directions:
        print(
            f"{shown_path(args.file)}: no directions kept (find one with --attribute or --classes)"
        )
        return 0
    for d in directions:
        print(f"{d.name}\t{d.kind}\t{d.source}\t{d.score_text}")
    return 0


def _classes(args: argparse.Namespace, state: Any) -> Any:
    from ..core.explore.directions import class_direction

    names = state.class_names
    if not names:
        raise LatentlabError("--classes needs a model with classes; this one has none")
    parts = [p.strip() for p in args.classes.split(",")]
    if len(parts) != 2 or not all(parts):
        raise LatentlabError("--classes takes two classes, as A,B (for example --classes 4,9)")
    model = state.model
    if model.conditional:
        a, b = (class_index(model, p, "--classes") for p in parts)
    else:
        a, b = (_plain_class(names, p) for p in parts)
    return class_direction(
        state.points.mu, state.points.labels, a, b, names=names, method=args.method, seed=args.seed
    )


def _plain_class(names: tuple[str, ...], text: str) -> int:
    """A class by name or index for a model that decodes without one (its labels still name)."""
    if text in names:
        return names.index(text)
    try:
        index = int(text)
    except ValueError:
        raise LatentlabError(f"--classes {text!r}: no class of that name") from None
    if not 0 <= index < len(names):
        raise LatentlabError(f"--classes {index}: the class index must be in 0..{len(names) - 1}")
    return index


def _attribute(args: argparse.Namespace, state: Any) -> Any:
    from ..core.explore.directions import (
        attribute_choices,
        attribute_direction,
        attribute_name,
        attribute_values_job,
    )

    document, points = state.document, state.points
    columns = getattr(document.images, "attributes", None) or {}
    wanted = args.attribute.strip()
    if wanted.casefold() in RECON_NAMES:
        wanted = "recon error"
    choices = attribute_choices(points, has_images=True, columns=columns)
    chosen = next((c for c in choices if attribute_name(c) == wanted), None)
    if chosen is None:
        known = ", ".join(attribute_name(c) for c in choices)
        raise LatentlabError(f"--attribute {wanted!r}: no such attribute; the model offers {known}")
    images = None
    if chosen.key != "column":
        images = _images(args, document, points)
    job = attribute_values_job(chosen, state.model, points, images, columns)
    try:
        while True:
            next(job)
    except StopIteration as end:
        values = end.value[chosen]
    return attribute_direction(points.mu, values, wanted, args.seed)


def _images(args: argparse.Namespace, document: Any, points: Any) -> Any:
    """The images behind the encoded points: the file's own, else the data set's test split."""
    from ..core.explore.points import images_match

    carried = getattr(document.images, "images", None)
    if carried is not None:
        if len(carried) != len(points):
            raise LatentlabError(f"{shown_path(args.file)}: its images do not match its points")
        return carried
    from ..core.data.datasets import load_test_images

    if not document.dataset:
        raise LatentlabError(f"{shown_path(args.file)}: the model names no data set to measure")
    print(f"measuring the {document.dataset} test images…", file=sys.stderr)
    test = load_test_images(document.dataset, args.data_dir)
    if test.labels is None or not images_match(points, test.labels):
        raise LatentlabError(
            f"the {document.dataset} test images found do not match the model's encoded points "
            "(another data set, or another order); give the right --data-dir"
        )
    return test.images
