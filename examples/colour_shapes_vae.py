"""Bring your own model: train a small convolutional VAE in PyTorch, then explore it in latentlab.

    python examples/colour_shapes_vae.py --out shapes/            # a few minutes on a CPU
    python examples/colour_shapes_vae.py --out shapes/ --quick    # seconds: a smoke run
    latentlab shapes/shapes.latentlab                             # open the explorer on it

The data set is generated: 32x32 RGB images of a circle, a square or a triangle of random
colour, size and position on a plain background, labelled by shape, with the colour (hue), size
and position of each image kept as attributes. Everything latentlab needs from your own project
is in steps 3 and 4: the decoder and encoder exported to ONNX, the images as a folder with one
sub-folder per class, a CSV of per-image numbers, and one `latentlab import` command.
"""

from __future__ import annotations

import argparse
import colorsys
import csv
import shlex
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

CLASSES = ("circle", "square", "triangle")  # in sorted order, as an image folder lists them
SIZE = 32  # image height and width
BACKGROUND = 40  # the grey level behind every shape


@dataclass
class Config:
    images: int = 4000  # how many images to generate
    epochs: int = 10  # passes over the data
    latent_dim: int = 8  # the explorer shows one slider per latent dimension
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0


# --- 1. the data: coloured shapes ------------------------------------------------------------


def make_shapes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """(n, 32, 32, 3) uint8 images, (n,) shape labels and per-image attributes, sorted by label."""
    labels = np.sort(rng.integers(0, len(CLASSES), n))  # sorted: file order = row order
    hue = rng.uniform(0, 1, n)
    radius = rng.uniform(4, 10, n)
    cx = rng.uniform(radius, SIZE - radius)
    cy = rng.uniform(radius, SIZE - radius)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    images = np.full((n, SIZE, SIZE, 3), BACKGROUND, np.uint8)
    for i in range(n):
        dx, dy, r = xx - cx[i], yy - cy[i], radius[i]
        if labels[i] == 0:  # circle
            mask = dx**2 + dy**2 <= r**2
        elif labels[i] == 1:  # square, about the circle's area
            mask = (abs(dx) <= 0.9 * r) & (abs(dy) <= 0.9 * r)
        else:  # triangle, pointing up
            mask = (dy >= -r) & (dy <= r) & (abs(dx) <= (dy + r) / 2)
        colour = np.array(colorsys.hsv_to_rgb(hue[i], 0.85, 0.95)) * 255
        images[i][mask] = colour.astype(np.uint8)
    attributes = {"hue": hue, "size": 2 * radius, "x": cx, "y": cy}
    return images, labels, attributes


# --- 2. the model: a convolutional VAE ---------------------------------------------------------


class Encoder(nn.Module):
    """Images (N, 3, 32, 32) in [0, 1] -> mean and log-variance of q(z|x), each (N, d)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(),  # 16x16
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),  # 8x8
            nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),  # 4x4
            nn.Flatten(),
        )  # fmt: skip
        self.mean = nn.Linear(128 * 4 * 4, d)
        self.logvar = nn.Linear(128 * 4 * 4, d)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.conv(x)
        return self.mean(h), self.logvar(h)


class Decoder(nn.Module):
    """Latents (N, d) -> images (N, 3, 32, 32) in [0, 1] (a sigmoid output)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d, 128 * 4 * 4)
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),  # 8x8
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),  # 16x16
            nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid(),  # 32x32
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(F.relu(self.fc(z)).view(-1, 128, 4, 4))


def vae_loss(recon, x, mean, logvar) -> torch.Tensor:
    """Negative ELBO per image (Kingma & Welling 2014, appendix B): BCE + KL(q(z|x) || N(0, I))."""
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mean.pow(2) - logvar.exp())
    return (bce + kl) / len(x)


def train(encoder: Encoder, decoder: Decoder, images: np.ndarray, config: Config) -> None:
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255  # NHWC uint8 -> NCHW
    params = [*encoder.parameters(), *decoder.parameters()]
    optimiser = torch.optim.Adam(params, lr=config.lr)
    for epoch in range(config.epochs):
        order, total = torch.randperm(len(x_all)), 0.0
        for start in range(0, len(x_all), config.batch_size):
            x = x_all[order[start : start + config.batch_size]]
            mean, logvar = encoder(x)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)  # reparameterisation
            loss = vae_loss(decoder(z), x, mean, logvar)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(x)
        print(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(x_all):.1f} per image")


# --- 3. what latentlab reads: ONNX graphs, an image folder, a CSV ------------------------------


def export_onnx(encoder: Encoder, decoder: Decoder, d: int, out: Path) -> tuple[Path, Path]:
    """Both networks as ONNX graphs with a dynamic batch axis (latentlab decodes 1 to N at once)."""
    encoder.eval(), decoder.eval()
    dec, enc = out / "decoder.onnx", out / "encoder.onnx"
    batch = {0: "batch"}
    warnings.filterwarnings("ignore", "You are using the legacy TorchScript")  # dynamo=False
    torch.onnx.export(
        decoder, (torch.zeros(1, d),), dec, dynamo=False,
        input_names=["z"], output_names=["image"],
        dynamic_axes={"z": batch, "image": batch},
    )  # fmt: skip
    torch.onnx.export(
        encoder, (torch.zeros(1, 3, SIZE, SIZE),), enc, dynamo=False,
        input_names=["image"], output_names=["mean", "logvar"],
        dynamic_axes={"image": batch, "mean": batch, "logvar": batch},
    )  # fmt: skip
    return dec, enc


def write_data(images: np.ndarray, labels: np.ndarray, attributes: dict, out: Path) -> Path:
    """images/<class>/<index>.png (torchvision's ImageFolder layout) and attributes.csv.

    latentlab lists class folders, then files, in name order; the CSV rows follow that order.
    """
    folder = out / "images"
    for name in CLASSES:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(folder / CLASSES[label] / f"{i:05d}.png")
    with open(out / "attributes.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(attributes)
        writer.writerows(zip(*(np.round(v, 4) for v in attributes.values()), strict=True))
    return folder


# --- 4. the import: one command ---------------------------------------------------------------


def import_command(out: Path, dec: Path, enc: Path, folder: Path) -> list[str]:
    return [
        "import",
        f"--decoder={dec}",
        f"--encoder={enc}",
        f"--data={folder}",
        f"--attributes={out / 'attributes.csv'}",
        f"--out={out / 'shapes.latentlab'}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("colour-shapes"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="300 images, 1 epoch: seconds")
    parser.add_argument("--epochs", type=int, help=f"default {Config.epochs} (1 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = Config(images=300, epochs=1) if args.quick else Config()
    config.epochs = args.epochs or config.epochs
    config.seed = args.seed
    torch.manual_seed(config.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    images, labels, attributes = make_shapes(config.images, np.random.default_rng(config.seed))
    encoder, decoder = Encoder(config.latent_dim), Decoder(config.latent_dim)
    train(encoder, decoder, images, config)
    dec, enc = export_onnx(encoder, decoder, config.latent_dim, args.out)
    folder = write_data(images, labels, attributes, args.out)

    command = import_command(args.out, dec, enc, folder)
    print("$ latentlab " + shlex.join(command))
    from latentlab.cli import main as latentlab

    status = latentlab(command)
    if status == 0:
        print(f"explore it: latentlab {shlex.quote(str(args.out / 'shapes.latentlab'))}")
    return status


if __name__ == "__main__":
    sys.exit(main())
