"""Do the class buttons stay the class? Keep a style, press another digit, read the result.

The explorer's central gesture is to keep a style (the sliders) and press another class button.
That works only if z holds the style and not the class: a model whose z also carries the
class turns a kept "3" style into a blurred 2 when 8 is pressed. Graded by the independent
judge CNN, for a conditional model with class mixtures (format version 2):

- **mean styles**: each class's mixture mean, decoded with each of the K one-hots (K x K
  images); the share the judge reads as the one-hot pressed;
- **sampled styles**: `--styles` drawn per class from its mixture (at the file's temperature),
  each decoded with every one-hot: the same share, for styles as a user meets them;
- **z = 0**: the origin (the Reset point) decoded with each one-hot: how many of the K read
  right;
- **traversals**: for each free dimension, z = 0 with that dimension at -2..2, the mean
  absolute pixel change; dimensions under 0.01 do nothing visible.

    python benchmarks/class_buttons.py MODEL.safetensors [MODEL2 ...] [--styles 20] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Protocol

import numpy as np

if __name__ == "__main__":  # run as a script: use this checkout's latentlab
    sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from latentlab.core.atomic import write_atomic
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.vae.numpy_net import NumpyVAE

DEAD_CHANGE = 0.01  # mean |pixel change| over a -2..2 traversal below which a slider is dead
STEPS = np.linspace(-2.0, 2.0, 5, dtype=np.float32)


class Predictor(Protocol):
    def predict(self, images: np.ndarray) -> np.ndarray: ...


def class_button_figures(
    net: Any, density: Any, judge: Predictor, styles: int = 20, seed: int = 0
) -> dict[str, Any]:
    """The figures above for a decoder `net` (decode(z, one_hots)) and its class mixtures."""
    k, d = density.means.shape[0], density.means.shape[-1]
    eye = np.eye(k, dtype=np.float32)
    means = np.einsum("ck,ckd->cd", density.weights, density.means).astype(np.float32)
    pressed = np.tile(np.arange(k), k)  # row c * k + j: class c's style, button j
    read = judge.predict(net.decode(np.repeat(means, k, axis=0), eye[pressed]))
    rng = np.random.default_rng(seed)
    drawn = np.concatenate([density.sample(styles, c, rng) for c in range(k)]).astype(np.float32)
    buttons = np.tile(np.arange(k), len(drawn))
    read_drawn = judge.predict(net.decode(np.repeat(drawn, k, axis=0), eye[buttons]))
    origin = judge.predict(net.decode(np.zeros((k, d), np.float32), eye))
    changes = []
    for i in range(d):
        z = np.zeros((k, len(STEPS), d), np.float32)
        z[:, :, i] = STEPS
        images = net.decode(z, np.repeat(eye[:, None, :], len(STEPS), axis=1))
        changes.append(
            float(np.abs(images - images[:, len(STEPS) // 2 : len(STEPS) // 2 + 1]).mean())
        )
    return {
        "mean_style_swap": float(np.mean(read == pressed)),
        "sampled_style_swap": float(np.mean(read_drawn == buttons)),
        "sampled_styles": len(drawn),
        "origin_right": int(np.sum(origin == np.arange(k))),
        "classes": int(k),
        "origin_read": [int(c) for c in origin],
        "traversal_min": float(min(changes)),
        "dead_dimensions": [i for i, c in enumerate(changes) if c < DEAD_CHANGE],
    }


class OwnClassifier:
    """The model's own classifier as the reader (for data the judge cannot read: clothes)."""

    def __init__(self, net: NumpyVAE) -> None:
        self.net = net

    def predict(self, images: np.ndarray) -> np.ndarray:
        flat = np.asarray(images, np.float32).reshape(len(images), -1)
        return np.argmax(self.net.classify(flat), axis=-1)


def figures_for(
    path: Path, styles: int, seed: int, judge: Predictor | None = None, own: bool = False
) -> dict:
    record = load_model(path)
    if not record.config.conditional or record.density is None:
        raise SystemExit(f"{path}: needs a conditional model with class mixtures")
    net = NumpyVAE(record.config, record.weights)
    if own:
        judge = OwnClassifier(net)
    elif judge is None:
        from latentlab.core.vae.judge import Judge

        judge = Judge()
    out = class_button_figures(net, record.density, judge, styles, seed)
    reader = "own classifier" if own else "judge CNN"
    return {"file": str(path), "temperature": record.density.temperature, "reader": reader, **out}


def format_row(r: dict[str, Any]) -> str:
    dead = ",".join(f"z{i + 1}" for i in r["dead_dimensions"]) or "none"
    return (
        f"{Path(r['file']).name:<28} {r['mean_style_swap']:>8.1%} {r['sampled_style_swap']:>9.1%}"
        f"  {r['origin_right']:>2}/{r['classes']:<2}  {r['traversal_min']:>8.4f}  {dead}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--styles", type=int, default=20, help="sampled styles per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--own", action="store_true", help="read with the model's own classifier (Fashion-MNIST)"
    )
    args = parser.parse_args(argv)
    rows = [figures_for(path, args.styles, args.seed, own=args.own) for path in args.models]
    print("model                        mean sty  sampled   z = 0   min move  dead sliders")
    for r in rows:
        print(format_row(r))
    if args.json:
        write_atomic(args.json, json.dumps(rows, indent=2).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
