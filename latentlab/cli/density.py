"""`latentlab fit-density FILE`: fit a model's class mixtures to its encoded training set."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import is_native, open_state


def add_density_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fit-density",
        help="fit a Gaussian mixture per class to the encoded training set, stored in the file",
    )
    p.add_argument("file")
    p.add_argument(
        "--data-dir", metavar="DIR", help="folder with the IDX files (or set LATENTLAB_DATA_DIR)"
    )
    p.add_argument("--out", metavar="FILE.safetensors", help="write here (default: FILE itself)")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps (to encode)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="sample the mixtures at temperature T (0 < T <= 2; below 1: cleaner, less varied)",
    )
    return p


def cmd_fit_density(args: argparse.Namespace) -> int:
    from ..core.data.datasets import load_dataset
    from ..core.vae.checkpoint import save_model
    from ..core.vae.config import MAX_SEED
    from ..core.vae.density import MAX_TEMPERATURE
    from ..core.vae.density_fit import fit_record_density
    from .common import in_range

    in_range("--seed", args.seed, 0, MAX_SEED)
    if not 0.0 < args.temperature <= MAX_TEMPERATURE:
        raise LatentlabError(
            f"--temperature must be in (0, {MAX_TEMPERATURE:g}], not {args.temperature:g}"
        )
    document = open_state(args.file).document
    if not is_native(document):
        raise LatentlabError(
            f"{shown_path(args.file)}: fit-density is for latentlab's own models (an encoder and "
            "the training set it was trained on)"
        )
    record = document.payload
    dataset = load_dataset(record.config.dataset, args.data_dir)
    density, seconds = fit_record_density(record, dataset, device=args.device, seed=args.seed)
    density = density.at_temperature(args.temperature)
    record.density = density
    record.metrics["density_fit_s"] = round(seconds, 2)
    record.metrics["density_heldout_gain_nats"] = density.heldout_gain
    out = Path(args.out) if args.out else Path(args.file)
    save_model(record, out)
    print(f"wrote {shown_path(out)}: {density.describe()} ({seconds:.1f} s)")
    return 0
