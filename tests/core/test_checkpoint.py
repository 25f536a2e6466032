"""Model files: round trip, atomic save, and a clear error for every kind of broken file."""

import json
import os
import pickle
import struct

import numpy as np
import pytest
from safetensors.numpy import save

from latentlab.core.errors import ModelFileError
from latentlab.core.vae.checkpoint import FORMAT_VERSION, load_model, save_model

from ..factories import TINY_CVAE, TINY_VAE, random_record


@pytest.mark.parametrize("config", [TINY_CVAE, TINY_VAE])
def test_round_trip_keeps_everything(tmp_path, config):
    record = random_record(config)
    path = save_model(record, tmp_path / "m.safetensors")
    loaded = load_model(path)
    assert loaded.config == record.config
    assert loaded.history == record.history and loaded.metrics == record.metrics
    assert loaded.created == record.created and loaded.format_version == FORMAT_VERSION
    for name, value in record.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], value)
    np.testing.assert_array_equal(loaded.test_encoding.mu, record.test_encoding.mu)
    np.testing.assert_array_equal(loaded.test_encoding.labels, record.test_encoding.labels)
    assert (loaded.test_encoding.probs is None) == (not config.conditional)


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(random_record(seed=1), path)
    save_model(random_record(seed=2), path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    np.testing.assert_array_equal(
        load_model(path).weights["decoder.layers.0.bias"],
        random_record(seed=2).weights["decoder.layers.0.bias"],
    )


def test_saved_files_get_ordinary_permissions_and_keep_a_replaced_files_mode(tmp_path):
    """mkstemp's private 0600 must not leak into models users share."""
    import os

    old = os.umask(0o022)
    try:
        path = tmp_path / "m.safetensors"
        save_model(random_record(seed=1), path)
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o640)
        save_model(random_record(seed=2), path)
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_a_failing_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(random_record(seed=1), path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        save_model(random_record(seed=2), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def _file_with(tmp_path, tensors, meta):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(save(tensors, metadata={"latentlab": json.dumps(meta)} if meta else None))
    return path


def _valid_parts():
    record = random_record()
    tensors = dict(record.weights)
    meta = {"format_version": 1, "config": record.config.to_dict(), "history": [], "metrics": {}}
    return tensors, meta


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickle_renamed_safetensors_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"\x01\x02\x03"), "this is not a latentlab model file"),
        (lambda p: p.write_bytes(struct.pack("<Q", 10**6) + b"{}"), "cut short"),
        (lambda p: p.write_bytes(struct.pack("<Q", 4) + b"nope"), "is not a latentlab model file"),
        (lambda p: p.write_text("epoch,loss\n1,0.5\n"), r"model file \(it looks like text\)"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 64), "pickled PyTorch"),
        (lambda p: p.write_bytes(b"\x80\x04\x95" + b"\0" * 64), "pickled PyTorch"),
    ],
)
def test_broken_bytes_are_rejected_with_the_file_named(tmp_path, make, message):
    path = tmp_path / "broken.safetensors"
    make(path)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_truncated_real_file_is_rejected(tmp_path):
    path = save_model(random_record(), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ModelFileError,
        match=rf"cut short \({len(data) // 2:,} of {len(data):,} bytes\): it was not fully "
        "downloaded or copied; download or save it again",
    ):
        load_model(path)


def test_a_file_cut_inside_its_table_of_contents_says_cut_short(tmp_path):
    path = save_model(random_record(), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[:100])
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the file is cut short (100 of at least ")
    assert message.endswith(
        "bytes): it was not fully downloaded or copied; download or save it again"
    )
    assert "\n" not in message and "header" not in message


def test_header_that_lies_about_sizes_is_rejected(tmp_path):
    path = save_model(random_record(), tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [s * 2 for s in header[name]["shape"]]
    new_header = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new_header)) + new_header + bytes(data[8 + size :]))
    with pytest.raises(ModelFileError, match="the file is damaged"):
        load_model(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t, m: m.clear(), "not a latentlab model"),
        (lambda t, m: m.update(format_version=FORMAT_VERSION + 1), "newer than this latentlab"),
        (lambda t, m: m.update(format_version="1"), "format_version"),
        (lambda t, m: m.update(config={"latent_dim": -1}), "invalid config"),
        (lambda t, m: m.update(config=[1]), "invalid config"),
        (lambda t, m: t.pop("decoder.layers.0.weight"), "weights its settings need are missing"),
        (lambda t, m: t.update(extra=np.zeros(3, np.float32)), "weights its settings do not use"),
        (lambda t, m: t.update({"decoder.layers.0.bias": np.zeros(5, np.float32)}), "have shape"),
        (lambda t, m: t["encoder.layers.0.weight"].__setitem__((0, 0), np.nan), "NaN or infinite"),
        (lambda t, m: t["encoder.layers.0.bias"].__setitem__(0, np.inf), "NaN or infinite"),
        (lambda t, m: m["config"].update(latent_dim=7), "are missing|have shape"),
        (lambda t, m: t.update({"decoder.layers.0.bias": np.zeros(32, np.float64)}), "float64"),
        (lambda t, m: m.update(history={}), "history"),
    ],
)
def test_wrong_contents_are_rejected_with_a_clear_message(tmp_path, change, message):
    tensors, meta = _valid_parts()
    tensors = {k: v.copy() for k, v in tensors.items()}
    change(tensors, meta)
    path = _file_with(tmp_path, tensors, meta)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_a_file_written_before_encoder_condition_still_loads(tmp_path):
    tensors, meta = _valid_parts()
    del meta["config"]["encoder_condition"]  # older files lack the field
    loaded = load_model(_file_with(tmp_path, tensors, meta))
    assert loaded.config.encoder_condition == "none"
    assert loaded.weights["encoder.layers.0.weight"].shape == (32, 784)


@pytest.mark.parametrize("config", [TINY_CVAE.replace(encoder_condition="label")])
def test_a_label_conditioned_encoder_round_trips(tmp_path, config):
    record = random_record(config)
    assert record.weights["encoder.layers.0.weight"].shape == (32, 784 + 10)
    loaded = load_model(save_model(record, tmp_path / "m.safetensors"))
    assert loaded.config == config


def test_metadata_that_is_not_json(tmp_path):
    tensors, _ = _valid_parts()
    path = tmp_path / "m.safetensors"
    path.write_bytes(save(tensors, metadata={"latentlab": "{not json"}))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(path)


def test_bad_test_encoding_is_rejected(tmp_path):
    record = random_record()
    record.test_encoding.labels[0] = 42
    path = save_model(record, tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="labels"):
        load_model(path)


def test_folder_missing_file_and_unreadable_file(tmp_path):
    with pytest.raises(ModelFileError, match="folder"):
        load_model(tmp_path)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "absent.safetensors")
    path = save_model(random_record(), tmp_path / "m.safetensors")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        with pytest.raises(ModelFileError, match="permission"):
            load_model(path)
    finally:
        path.chmod(0o644)


def test_non_ascii_path_round_trips(tmp_path):
    path = save_model(random_record(), tmp_path / "modèle-数字.safetensors")
    assert load_model(path).config == TINY_CVAE
