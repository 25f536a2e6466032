"""Parameter names and shapes of a model, derived from its config alone.

Torch, numpy and the file validator all agree on the layout through this one module, and
computing it needs no torch, so a model file can be checked and explored without importing torch.
"""

from __future__ import annotations

import itertools

from latentlab.core.vae.config import Config


def mlp_dims(config: Config) -> dict[str, list[int]]:
    """Layer widths of each network, input first and output last."""
    d, c, n = config.latent_dim, config.num_classes, config.input_dim
    dims = {
        # The encoder's last layer gives the mean and the raw variance output side by side.
        "encoder": [n, *config.encoder_hidden, 2 * d],
        "decoder": [d + (c if config.conditional else 0), *config.decoder_hidden, n],
    }
    if config.conditional:
        dims["classifier"] = [n, *config.classifier_hidden, c]
    return dims


def parameter_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """`{name: shape}` for every weight, named as torch's state_dict names them."""
    shapes: dict[str, tuple[int, ...]] = {}
    for net, dims in mlp_dims(config).items():
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
            shapes[f"{net}.layers.{i}.weight"] = (fan_out, fan_in)
            shapes[f"{net}.layers.{i}.bias"] = (fan_out,)
    return shapes


def layer_names(config: Config, net: str) -> list[tuple[str, str]]:
    """(weight name, bias name) per layer of one network, in order."""
    count = len(mlp_dims(config)[net]) - 1
    return [(f"{net}.layers.{i}.weight", f"{net}.layers.{i}.bias") for i in range(count)]
