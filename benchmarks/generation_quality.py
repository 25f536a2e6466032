"""Does a conditional model draw the digit it is asked for? Graded by the independent judge CNN.

The product requirement: for class c and a style z ~ N(0, I) from the prior, the default model's
decoded image must be read as c by an independent classifier for >= 97% of 10 x 200 samples.
Each z is decoded once per class (the same styles for every class), so a weak class cannot hide
behind easy styles. The model's own classifier is reported too, for contrast: it shares training
with the decoder, so it can be lenient about the decoder's mistakes.

    python benchmarks/generation_quality.py MODEL.safetensors [MODEL2 ...] [--samples 200]
        [--json FILE] [--grid out.png] [--require 0.97]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, Protocol

import numpy as np

if __name__ == "__main__":  # run as a script: use this checkout's latentlab and judge
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from latentlab.core.atomic import write_atomic
from latentlab.core.errors import LatentlabError
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.vae.config import PRESETS, Config
from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.record import ModelRecord

NA = "n/a"


class Predictor(Protocol):
    """Anything that reads digits: the Judge, or a stand-in in tests."""

    def predict(self, images: np.ndarray) -> np.ndarray: ...


def describe(config: Config) -> str:
    """A preset name when the config is one (up to epochs and seed), else its salient fields."""
    run = f"{config.epochs} ep, seed {config.seed}"
    for name, preset in PRESETS.items():
        if preset.config.replace(epochs=config.epochs, seed=config.seed) == config:
            return f"{name} ({run})"
    hidden = "/".join(map(str, config.decoder_hidden)) or "linear"
    parts = [
        "cVAE" if config.conditional else "VAE",
        f"{config.activation} {hidden}",
        f"z{config.latent_dim}",
        config.likelihood,
        f"beta {config.kl_weight:g}",
    ]
    if config.conditional:
        parts.append(f"cls w {config.classification_weight:g}")
        if config.classifier_stop_gradient:
            parts.append("stop-grad")
    return f"{' '.join(parts)} ({run})"


def prior_styles(config: Config, samples: int, seed: int) -> np.ndarray:
    """`samples` latent styles z ~ N(0, I), float32 (samples, latent_dim), fixed by `seed`."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, config.latent_dim)).astype(np.float32)


def generate(
    record: ModelRecord, samples_per_class: int, seed: int = 0, styles: str = "prior"
) -> np.ndarray:
    """Images (num_classes, samples, 28, 28) in [0, 1].

    `styles` "prior": every prior style decoded for every class (the same styles for each);
    "mixture": each class's styles drawn from the file's class mixture (`latentlab fit-density`).
    A plain VAE has no class input; it gets one row of `samples_per_class` samples,
    shape (1, samples, 28, 28).
    """
    config = record.config
    net = NumpyVAE(config, record.weights)
    if styles == "mixture":
        if record.density is None:
            raise LatentlabError("--styles mixture: the model file has no class density")
        rng = np.random.default_rng(seed)
        if not config.conditional:
            z = record.density.sample(samples_per_class, 0, rng)
            return net.decode(z).reshape(1, samples_per_class, 28, 28)
        c = config.num_classes
        zs = np.concatenate([record.density.sample(samples_per_class, k, rng) for k in range(c)])
        onehot = net.one_hot(np.repeat(np.arange(c), samples_per_class))
        return net.decode(zs, onehot).reshape(c, samples_per_class, 28, 28)
    z = prior_styles(config, samples_per_class, seed)
    if not config.conditional:
        return net.decode(z).reshape(1, samples_per_class, 28, 28)
    c = config.num_classes
    zs = np.broadcast_to(z, (c, *z.shape)).reshape(c * samples_per_class, -1)
    onehot = net.one_hot(np.repeat(np.arange(c), samples_per_class))
    return net.decode(zs, onehot).reshape(c, samples_per_class, 28, 28)


def classifier_test_accuracy(model_path: str | os.PathLike[str]) -> float | None:
    """The model's own classifier accuracy on the test set, as stored by the trainer (None if absent)."""
    value = load_model(model_path).metrics.get("test_accuracy")
    return float(value) if isinstance(value, (int, float)) else None


SOLID, INK = 0.9, 0.1  # a pixel above INK is ink; above SOLID it is solid ink


def solid_ink_share(images: np.ndarray) -> float:
    """Of the pixels with ink (> 0.1), the share that is solid (> 0.9): 0.51 for real digits."""
    images = np.asarray(images)
    ink = int((images > INK).sum())
    return float((images > SOLID).sum() / ink) if ink else 0.0


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets a (N, F) and b (M, F):
    |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) (Heusel et al. 2017, in the judge's
    64 features rather than Inception's). The trace of the square root is the sum of the square
    roots of the eigenvalues of S_a S_b (real and >= 0 for two covariance matrices)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(sa @ sb)
    root = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(mu @ mu + np.trace(sa) + np.trace(sb) - 2 * root)


def reference_features(judge: Any, images: np.ndarray) -> np.ndarray:
    """The judge's features of real images (uint8 or [0, 1]), for `frechet_distance`."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return judge.features(x.reshape(-1, 28, 28))


def generation_accuracy(
    model_path: str | os.PathLike[str],
    judge: Predictor,
    samples_per_class: int = 200,
    seed: int = 0,
    styles: str = "prior",
    reference: np.ndarray | None = None,
) -> dict[str, Any]:
    """How often the judge (and the model's own classifier) reads a generated digit as intended.

    Keys: model, description, conditional, samples_per_class, seed, test_accuracy,
    judge_accuracy, judge_per_class (list by class), worst_class, worst_class_accuracy,
    own_accuracy, own_per_class, judge_own_agreement, styles, solid_ink, fid. For a plain VAE,
    which cannot be asked for a class, every generation figure is None (shown as "n/a"), the
    solid-ink share and the Frechet distance excepted. `fid` needs `reference`: the judge's
    features of real test images (None without).
    """
    record = load_model(model_path)
    config = record.config
    test_acc = record.metrics.get("test_accuracy")
    result: dict[str, Any] = {
        "model": str(model_path),
        "description": describe(config),
        "conditional": config.conditional,
        "samples_per_class": samples_per_class,
        "seed": seed,
        "test_accuracy": float(test_acc) if isinstance(test_acc, (int, float)) else None,
        "judge_accuracy": None,
        "judge_per_class": None,
        "worst_class": None,
        "worst_class_accuracy": None,
        "own_accuracy": None,
        "own_per_class": None,
        "judge_own_agreement": None,
        "styles": styles,
        "solid_ink": None,
        "fid": None,
    }
    images = generate(record, samples_per_class, seed, styles)
    result["solid_ink"] = solid_ink_share(images)
    if reference is not None and hasattr(judge, "features"):
        result["fid"] = frechet_distance(judge.features(images.reshape(-1, 28, 28)), reference)
    if not config.conditional:
        return result
    c = config.num_classes
    flat = images.reshape(c * samples_per_class, 784)
    wanted = np.repeat(np.arange(c), samples_per_class)
    judged = np.asarray(judge.predict(images.reshape(-1, 28, 28))).reshape(-1)
    own = NumpyVAE(config, record.weights).classify(flat).argmax(axis=1)
    judge_per_class = (judged == wanted).reshape(c, samples_per_class).mean(axis=1)
    own_per_class = (own == wanted).reshape(c, samples_per_class).mean(axis=1)
    worst = int(np.argmin(judge_per_class))
    result.update(
        judge_accuracy=float((judged == wanted).mean()),
        judge_per_class=[float(a) for a in judge_per_class],
        worst_class=worst,
        worst_class_accuracy=float(judge_per_class[worst]),
        own_accuracy=float((own == wanted).mean()),
        own_per_class=[float(a) for a in own_per_class],
        judge_own_agreement=float((judged == own).mean()),
    )
    return result


def save_grid(
    model_path: str | os.PathLike[str],
    judge: Predictor,
    out: str | os.PathLike[str],
    rows: int = 8,
    seed: int = 0,
    scale: int = 2,
    styles: str = "prior",
) -> Path:
    """A PNG to eyeball: one column per class, one row per style; red frame = judge disagrees.

    Prior styles: each row one style for every class; mixture styles: each class's own draws.
    The styles are the first `rows` of the ones `generation_accuracy` uses with the same seed.
    A plain VAE gets `rows` x 10 samples, unframed.
    """
    from PIL import Image

    record = load_model(model_path)
    images = generate(record, rows, seed, styles) if record.config.conditional else None
    if images is None:
        grid = generate(record, rows * 10, seed, styles).reshape(rows, 10, 28, 28)
        wrong = np.zeros((rows, 10), dtype=bool)
    else:
        grid = images.transpose(1, 0, 2, 3)  # (rows, classes, 28, 28)
        judged = np.asarray(judge.predict(grid.reshape(-1, 28, 28))).reshape(grid.shape[:2])
        wrong = judged != np.arange(grid.shape[1])[None, :]
    n_rows, n_cols = grid.shape[:2]
    pad, cell = 2, 28 + 4  # 2-pixel frame around every 28-pixel digit
    canvas = np.full((n_rows * cell + pad, n_cols * cell + pad, 3), 64, dtype=np.uint8)
    for r in range(n_rows):
        for c in range(n_cols):
            y, x = pad + r * cell, pad + c * cell
            if wrong[r, c]:
                canvas[y - 2 : y + 30, x - 2 : x + 30] = (220, 30, 30)
            canvas[y : y + 28, x : x + 28] = (np.clip(grid[r, c], 0, 1) * 255).round()[..., None]
    img = Image.fromarray(canvas).resize(
        (canvas.shape[1] * scale, canvas.shape[0] * scale), Image.Resampling.NEAREST
    )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    out = Path(out)
    write_atomic(out, buf.getvalue())
    return out


def _pct(value: float | None) -> str:
    return NA if value is None else f"{100 * value:.1f}%"


def format_table(results: list[dict[str, Any]]) -> str:
    """Plain-text table, one row per model."""
    header = (
        "model",
        "description",
        "styles",
        "test acc",
        "gen acc (judge)",
        "gen acc (own)",
        "worst class",
        "solid ink",
        "FID (judge)",
    )
    rows = [header]
    for r in results:
        if "error" in r:
            rows.append((Path(r["model"]).name, "ERROR (below)", *[""] * 7))
            continue
        worst = (
            NA
            if r["worst_class"] is None
            else f"{r['worst_class']} ({_pct(r['worst_class_accuracy'])})"
        )
        rows.append(
            (
                Path(r["model"]).name,
                r["description"],
                r.get("styles", "prior"),
                _pct(r["test_accuracy"]),
                _pct(r["judge_accuracy"]),
                _pct(r["own_accuracy"]),
                worst,
                NA if r.get("solid_ink") is None else f"{r['solid_ink']:.3f}",
                NA if r.get("fid") is None else f"{r['fid']:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"{Path(r['model']).name}: {r['error']}" for r in results if "error" in r]
    return "\n".join(lines)


def real_vs_real(
    judge: Any, data: Any, reference: np.ndarray, count: int, seed: int
) -> dict[str, Any]:
    """The same figures for `count` real training digits against the test set: the floor."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(
        len(data.train_images), size=min(count, len(data.train_images)), replace=False
    )
    images = data.train_images[pick].astype(np.float32) / 255.0
    read = judge.predict(images)
    wanted = np.asarray(data.train_labels)[pick]
    return {
        "model": "real training digits",
        "description": f"{len(pick)} MNIST training images vs the test set",
        "styles": "-",
        "test_accuracy": None,
        "judge_accuracy": float((read == wanted).mean()),
        "own_accuracy": None,
        "worst_class": None,
        "worst_class_accuracy": None,
        "solid_ink": solid_ink_share(images),
        "fid": frechet_distance(judge.features(images), reference),
    }


def _grid_path(grid: Path, model: Path, several: bool) -> Path:
    return grid.with_name(f"{grid.stem}-{model.stem}{grid.suffix}") if several else grid


def main(argv: list[str] | None = None) -> int:
    from judge import DEFAULT_WEIGHTS, Judge

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model .safetensors files")
    parser.add_argument("--samples", type=int, default=200, help="prior styles per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge", type=Path, default=DEFAULT_WEIGHTS, help="judge CNN weights")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--grid", type=Path, help="save a sample grid PNG (one per model if several)"
    )
    parser.add_argument("--grid-rows", type=int, default=8)
    parser.add_argument(
        "--styles",
        choices=("prior", "mixture", "both"),
        default="prior",
        help="styles from N(0, I), the file's class mixture, or a row for each",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="MNIST folder: adds the Frechet distance to the test set in the judge's features "
        "and a real-vs-real row (2,000 training digits)",
    )
    parser.add_argument(
        "--require",
        type=float,
        help="exit 1 unless every conditional model's judged accuracy reaches this (e.g. 0.97)",
    )
    args = parser.parse_args(argv)

    judge = Judge(args.judge)
    results: list[dict[str, Any]] = []
    reference = None
    if args.data_dir is not None:
        from latentlab.core.data.datasets import load_dataset

        data = load_dataset("mnist", args.data_dir)
        reference = reference_features(judge, data.test_images)
        results.append(real_vs_real(judge, data, reference, args.samples * 10, args.seed))
    kinds = ("prior", "mixture") if args.styles == "both" else (args.styles,)
    for model in args.models:
        try:
            for kind in kinds:
                results.append(
                    generation_accuracy(model, judge, args.samples, args.seed, kind, reference)
                )
            if args.grid:
                grid = save_grid(
                    model,
                    judge,
                    _grid_path(args.grid, model, len(args.models) > 1),
                    args.grid_rows,
                    args.seed,
                    styles=kinds[-1],  # with --styles both: the mixture, as the app draws
                )
                print(f"grid: {grid}", file=sys.stderr)
        except LatentlabError as exc:
            results.append({"model": str(model), "error": str(exc).splitlines()[0]})
    print(
        f"judge {args.judge.name} (test accuracy {judge.metadata.get('test_accuracy', '?')}),"
        f" {args.samples} styles x 10 classes, seed {args.seed}"
    )
    print(format_table(results))
    if args.json:
        write_atomic(args.json, (json.dumps(results, indent=2) + "\n").encode())
    failed = any("error" in r for r in results)
    if args.require is not None:
        failed |= any(
            r.get("judge_accuracy") is not None and r["judge_accuracy"] < args.require
            for r in results
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
