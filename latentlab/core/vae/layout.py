"""Parameter names and shapes of a model, derived from its config alone.

Torch, numpy and the file validator all agree on the layout through this one module, and
computing it needs no torch, so a model file can be checked and explored without importing torch.

An MLP network is `{net}.layers.{i}`; a conv model's encoder is stride-2 4x4 convolutions
(`encoder.convs.{i}`, 28 -> 14 -> 7 pixels) before its dense layers (`encoder.dense.layers.{i}`),
and its decoder dense layers (`decoder.dense.layers.{i}`, ending at channels x side x side) before
stride-2 4x4 transposed convolutions (`decoder.deconvs.{i}`, back to 1 x 28 x 28). The classifier
is an MLP in both families.
"""

from __future__ import annotations

import itertools

from latentlab.core.vae.config import IMAGE_SIDE, Config

KERNEL, STRIDE, PADDING = 4, 2, 1  # each conv halves the side; each transposed conv doubles it


def conv_side(config: Config) -> int:
    """The side of the smallest feature map of a conv model (14 or 7)."""
    return IMAGE_SIDE // 2 ** len(config.conv_channels)


def mlp_dims(config: Config) -> dict[str, list[int]]:
    """Layer widths of each dense network, input first and output last.

    For a conv model the encoder's dense part reads the last feature map flattened and the
    decoder's dense part ends at it. With `encoder_condition` "label" the encoder's first dense
    layer also reads a class vector, appended after the image (MLP) or the flattened features.
    """
    d, c, n = config.latent_dim, config.num_classes, config.input_dim
    dec_in = d + (c if config.conditional else 0)
    enc_extra = c if config.encoder_condition == "label" else 0  # the class vector q(z|x) reads
    if config.architecture == "conv":
        flat = config.conv_channels[-1] * conv_side(config) ** 2
        dims = {
            "encoder": [flat + enc_extra, *config.encoder_hidden, 2 * d],
            "decoder": [dec_in, *config.decoder_hidden, flat],
        }
    else:
        dims = {
            # The encoder's last layer gives the mean and the raw variance output side by side.
            "encoder": [n + enc_extra, *config.encoder_hidden, 2 * d],
            "decoder": [dec_in, *config.decoder_hidden, n],
        }
    if config.conditional:
        dims["classifier"] = [n, *config.classifier_hidden, c]
    return dims


def conv_channels(config: Config) -> list[int]:
    """Image channels first (1), then each convolution's output channels."""
    return [1, *config.conv_channels]


def _dense_prefix(config: Config, net: str) -> str:
    if config.architecture == "conv" and net in ("encoder", "decoder"):
        return f"{net}.dense.layers"
    return f"{net}.layers"


def parameter_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """`{name: shape}` for every weight, named as torch's state_dict names them."""
    shapes: dict[str, tuple[int, ...]] = {}
    if config.architecture == "conv":
        chans = conv_channels(config)
        for i, (a, b) in enumerate(itertools.pairwise(chans)):
            shapes[f"encoder.convs.{i}.weight"] = (b, a, KERNEL, KERNEL)
            shapes[f"encoder.convs.{i}.bias"] = (b,)
    for net, dims in mlp_dims(config).items():
        prefix = _dense_prefix(config, net)
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
            shapes[f"{prefix}.{i}.weight"] = (fan_out, fan_in)
            shapes[f"{prefix}.{i}.bias"] = (fan_out,)
    if config.architecture == "conv":
        for i, (a, b) in enumerate(deconv_pairs(config)):
            shapes[f"decoder.deconvs.{i}.weight"] = (a, b, KERNEL, KERNEL)  # torch: (in, out, k, k)
            shapes[f"decoder.deconvs.{i}.bias"] = (b,)
    return shapes


def deconv_pairs(config: Config) -> list[tuple[int, int]]:
    """(in, out) channels of each transposed convolution, last feature map first, image last."""
    return list(itertools.pairwise(reversed(conv_channels(config))))


def layer_names(config: Config, net: str) -> list[tuple[str, str]]:
    """(weight name, bias name) per dense layer of one network, in order."""
    count = len(mlp_dims(config)[net]) - 1
    prefix = _dense_prefix(config, net)
    return [(f"{prefix}.{i}.weight", f"{prefix}.{i}.bias") for i in range(count)]


def conv_names(config: Config, kind: str) -> list[tuple[str, str]]:
    """(weight name, bias name) per convolution: kind "convs" (encoder) or "deconvs" (decoder)."""
    count = len(config.conv_channels)
    net = "encoder" if kind == "convs" else "decoder"
    return [(f"{net}.{kind}.{i}.weight", f"{net}.{kind}.{i}.bias") for i in range(count)]
