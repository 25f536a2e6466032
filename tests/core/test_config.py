import json

import pytest

from latentlab.core.vae.config import PRESETS, Config, ConfigError, get_preset


def test_presets_named_in_the_issue_have_the_specified_settings():
    seed = get_preset("seed-cvae").config
    assert seed.conditional and seed.latent_dim == 10 and seed.activation == "sigmoid"
    assert seed.encoder_hidden == seed.decoder_hidden == seed.classifier_hidden == (128,)
    assert (seed.likelihood, seed.decoder_std, seed.classification_weight) == (
        "gaussian",
        0.5,
        10.0,
    )
    assert (seed.optimizer, seed.learning_rate, seed.batch_size, seed.epochs) == (
        "adam",
        1e-3,
        100,
        20,
    )
    assert not seed.classifier_stop_gradient and seed.kl_weight == 1.0
    vae2d = get_preset("vae-2d").config
    assert not vae2d.conditional and vae2d.latent_dim == 2 and vae2d.encoder_hidden == (256,)
    assert (vae2d.activation, vae2d.likelihood, vae2d.batch_size) == ("relu", "bernoulli", 100)
    pt = get_preset("pytorch-vae").config
    assert (pt.encoder_hidden, pt.latent_dim, pt.batch_size, pt.epochs) == ((400,), 20, 128, 10)
    assert pt.likelihood == "bernoulli" and not pt.conditional


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_json(name):
    config = PRESETS[name].config
    assert Config.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["encoder_hidden"] == list(config.encoder_hidden)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object"),
        ({"latent_dim": "8"}, "latent_dim"),
        ({"latent_dim": True}, "latent_dim"),
        ({"latent_dim": 0}, "positive"),
        ({"encoder_hidden": [128, -1]}, "encoder_hidden"),
        ({"activation": "swish"}, "activation"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"kl_weight": -1}, "kl_weight"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"decoder_condition": "both"}, "decoder_condition"),
        ({"decoder_condition": "label"}, "classifier_stop_gradient"),
        ({"decoder_condition": "label", "conditional": False}, "conditional model"),
        ({"encoder_condition": "softmax"}, "encoder_condition"),
        ({"encoder_condition": "label", "conditional": False}, "conditional model"),
        ({"surprise": 1}, "unknown keys: surprise"),
    ],
)
def test_bad_config_data_is_rejected_with_the_field_named(data, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_dict(data)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="seed-cvae"):
        get_preset("nope")


def test_from_json_rejects_broken_json():
    with pytest.raises(ConfigError, match="not valid JSON"):
        Config.from_json("{")


def test_a_config_written_before_encoder_condition_loads_with_the_image_only_encoder():
    data = PRESETS["sharp-cvae"].config.to_dict()
    del data["encoder_condition"]
    config = Config.from_dict(data)
    assert config.encoder_condition == "none" and config == PRESETS["sharp-cvae"].config


def test_the_handwriting_preset_is_label_cvae_16_with_a_class_reading_encoder():
    config = get_preset("handwriting-cvae").config
    assert Config.from_json(config.to_json()) == config  # validates
    assert config.encoder_condition == config.decoder_condition == "label"
    assert config == get_preset("label-cvae-16").config.replace(encoder_condition="label")
