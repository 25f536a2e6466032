"""Keeping directions: in a latentlab model file (every other byte of it kept), in a sidecar for
a file latentlab must not change, exported as JSON, and hostile JSON refused naming the file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from latentlab.core import bundled
from latentlab.core.explore import direction_store as store
from latentlab.core.explore.direction_store import (
    METADATA_KEY,
    DirectionFileError,
    export_json,
    from_json,
    read_json_file,
    read_metadata,
    store_for,
    to_json,
    write_metadata,
)
from latentlab.core.explore.directions import Direction
from latentlab.core.model_files import open_document
from latentlab.core.safetensors_file import read_safetensors
from latentlab.core.vae.checkpoint import save_model

from ..factories import TINY_CVAE, random_record


@pytest.fixture(autouse=True)
def _sidecars(tmp_path, monkeypatch):
    folder = tmp_path / "sidecars"
    monkeypatch.setenv(store.DIRECTIONS_ENV, str(folder))
    return folder


def slant(d: int = 3) -> Direction:
    unit = np.zeros(d, np.float32)
    unit[0], unit[-1] = 0.6, 0.8
    return Direction(
        "slant", unit, "regression", "attribute slant", 0.8, "R²", "left", "right", 1.7, -0.2
    )


def thickness(d: int = 3) -> Direction:
    return Direction("thick ✓", np.eye(d)[1], "mean-difference", "classes 1 -> 7", 0.91, "accuracy")


def model_file(tmp_path, name: str = "m.safetensors"):
    return save_model(random_record(TINY_CVAE, n_test=40), tmp_path / name)


def test_json_round_trip_keeps_every_field():
    directions = [slant(), thickness()]
    back = from_json(to_json(directions), 3, "x.json")
    for a, b in zip(directions, back, strict=True):
        assert (a.name, a.kind, a.source, a.low, a.high, a.score_name) == (
            b.name,
            b.kind,
            b.source,
            b.low,
            b.high,
            b.score_name,
        )
        assert (a.score, a.scale, a.centre) == pytest.approx((b.score, b.scale, b.centre))
        np.testing.assert_allclose(a.unit, b.unit, atol=1e-7)


def test_in_file_round_trip_keeps_the_rest_of_the_model_file(tmp_path, _sidecars):
    path = model_file(tmp_path)
    before = read_safetensors(path, max_bytes=1 << 30, what="a model")
    document = open_document(path)
    kept = store_for(document)
    assert kept.in_file
    kept.save([slant(), thickness()])
    assert [d.name for d in store_for(open_document(path)).load()] == ["slant", "thick ✓"]
    after = read_safetensors(path, max_bytes=1 << 30, what="a model")
    assert set(after.tensors) == set(before.tensors)
    for name, array in before.tensors.items():
        assert after.tensors[name].tobytes() == array.tobytes()
    assert {k: v for k, v in after.metadata.items() if k != METADATA_KEY} == before.metadata
    reopened = open_document(path)  # still a valid latentlab model
    from safetensors.numpy import load_file  # and a valid safetensors file to the library

    assert set(load_file(path)) == set(before.tensors)
    np.testing.assert_array_equal(reopened.points.mu, document.points.mu)
    assert not _sidecars.exists()  # no sidecar for a file that keeps its own
    kept.save([])  # emptying keeps the key, with no directions
    assert store_for(open_document(path)).load() == []


def test_removing_the_key_gives_back_the_same_metadata(tmp_path):
    path = model_file(tmp_path)
    before = read_metadata(path)
    write_metadata(path, METADATA_KEY, to_json([slant()]))
    write_metadata(path, METADATA_KEY, None)
    assert read_metadata(path) == before
    open_document(path)


def test_a_read_only_model_gets_a_sidecar_keyed_by_its_content(tmp_path, _sidecars):
    path = model_file(tmp_path)
    bytes_before = path.read_bytes()
    os.chmod(path, 0o444)
    try:
        document = open_document(path)
        kept = store_for(document)
        assert not kept.in_file
        kept.save([slant()])
        assert path.read_bytes() == bytes_before
        sidecars = list(_sidecars.glob("*.json"))
        assert len(sidecars) == 1
        # The same content under another name finds the same directions.
        copy = tmp_path / "copy.safetensors"
        copy.write_bytes(bytes_before)
        os.chmod(copy, 0o444)
        assert [d.name for d in store_for(open_document(copy)).load()] == ["slant"]
    finally:
        os.chmod(path, 0o644)


def test_a_bundled_model_is_never_rewritten(tmp_path, monkeypatch):
    folder = tmp_path / "bundled"
    folder.mkdir()
    path = model_file(folder)
    monkeypatch.setattr(bundled, "models_dir", lambda: folder)
    kept = store_for(open_document(path))
    assert not kept.in_file
    before = path.read_bytes()
    kept.save([thickness()])
    assert path.read_bytes() == before
    assert store_for(open_document(path)).load()[0].name == "thick ✓"


def test_an_unsaved_model_has_no_store():
    from latentlab.core.vae.latent_model import vae_document

    assert store_for(vae_document(random_record(TINY_CVAE), None, unsaved=True)) is None


def test_export_and_read_back_one_or_all(tmp_path):
    out = export_json(tmp_path / "all.json", [slant(), thickness()])
    data = json.loads(out.read_text())
    assert data["format"] == "latentlab-directions"
    assert data["directions"][0]["vector"] == pytest.approx([0.6, 0.0, 0.8])
    assert [d.name for d in read_json_file(out, 3)] == ["slant", "thick ✓"]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(slant().to_dict()))  # a single direction object is read too
    assert read_json_file(one, 3)[0].name == "slant"


HOSTILE = [
    ("not json {", "is not JSON"),
    ('{"format": "other"}', "not a latentlab directions file"),
    ('{"format": "latentlab-directions", "version": 99, "directions": []}', "newer"),
    ('{"format": "latentlab-directions", "version": 1, "directions": {}}', "must be a list"),
    ("[" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("text", "problem"), HOSTILE)
def test_hostile_json_is_one_line_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DirectionFileError, match=problem) as caught:
        read_json_file(path, 3)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"vector": [1.0, 0.0]}, "vector of 2 values; this model's latent space has 3"),
        ({"vector": [1.0, "NaN", 0.0]}, "not all numbers"),
        ({"vector": [0.0, 0.0, 0.0]}, "zero vector"),
        ({"kind": "magic"}, "not one of"),
        ({"scale": -1.0}, "positive"),
        ({"name": ""}, "'name'"),
        ({"name": "x" * 1000}, "'name'"),
    ],
)
def test_a_bad_entry_names_the_file_and_the_direction(tmp_path, change, problem):
    entry = {**slant().to_dict(), **change}
    path = tmp_path / "d.json"
    path.write_text(
        json.dumps({"format": "latentlab-directions", "version": 1, "directions": [entry]})
    )
    with pytest.raises(DirectionFileError, match=problem) as caught:
        read_json_file(path, 3)
    assert f"{path}: direction 1" in str(caught.value)


def test_nan_in_a_vector_is_refused():
    text = to_json([slant()]).replace("0.800000011920929", "NaN")
    assert "NaN" in text
    with pytest.raises(DirectionFileError, match="NaN or infinite"):
        from_json(text, 3, "m.safetensors")


def test_bad_directions_in_a_model_file_do_not_stop_it_opening(tmp_path):
    path = model_file(tmp_path)
    write_metadata(path, METADATA_KEY, "{broken")
    document = open_document(path)  # the model itself is fine
    with pytest.raises(DirectionFileError, match=f"{path.name}: the directions text is not JSON"):
        store_for(document).load()


def test_a_folder_or_a_huge_file_is_refused(tmp_path, monkeypatch):
    with pytest.raises(DirectionFileError, match="folder"):
        read_json_file(tmp_path, 3)
    monkeypatch.setattr(store, "MAX_JSON_BYTES", 10)
    big = tmp_path / "big.json"
    big.write_text(to_json([slant()]))
    with pytest.raises(DirectionFileError, match="more than a directions file can be"):
        read_json_file(big, 3)


def test_a_damaged_model_file_is_not_rewritten(tmp_path):
    path = model_file(tmp_path)
    with path.open("ab") as f:
        f.write(b"junk")
    before = path.read_bytes()
    with pytest.raises(DirectionFileError, match="damaged"):
        write_metadata(path, METADATA_KEY, to_json([slant()]))
    assert path.read_bytes() == before
