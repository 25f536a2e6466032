"""Importing ONNX graphs: layouts and scales found from the graphs, every mismatch refused before
anything is written, and the one file that results opened as a model like any other."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from latentlab.core.errors import LatentlabError, ModelFileError
from latentlab.core.explore.latent_model import ImageSpec, LatentModel
from latentlab.core.explore.state import ExplorerState
from latentlab.core.imported.importer import ImportRequest, import_model, inspect_import
from latentlab.core.imported.onnx_scan import GraphRefused, check_self_contained, scan_model
from latentlab.core.model_files import describe, open_document
from tests import onnx_factory as f


def _bare(data: bytes, feeds: dict) -> np.ndarray:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)[0]


@pytest.mark.parametrize("layout", ["nchw", "nhwc", "nhw", "flat"])
def test_every_layout_decodes_to_the_same_images(tmp_path, layout):
    c = 1 if layout in ("nhw", "flat") else 3
    h, w = (6, 6) if layout == "flat" else (6, 5)  # a flat output must be square to be guessed
    data = f.decoder(4, h, w, c, layout=layout)
    path = f.write(tmp_path / "dec.onnx", data)
    plan = inspect_import(ImportRequest(decoder=path))
    assert plan.decoder.layout == layout and plan.image_spec == ImageSpec(h, w, c)
    z = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    images = plan.model.decode(z)
    assert images.shape == (5, h, w, c) and images.dtype == np.float32
    raw = _bare(data, {"z": z})
    expected = raw.transpose(0, 2, 3, 1) if layout == "nchw" else raw.reshape(5, h, w, c)
    np.testing.assert_allclose(images, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("output", "flag"), [("tanh", "-1,1"), ("logits", "logits")])
def test_other_pixel_scales_need_their_flag_and_then_map_to_0_1(tmp_path, output, flag):
    path = f.write(tmp_path / "dec.onnx", f.decoder(output=output))
    with pytest.raises(
        ModelFileError, match=r"dec\.onnx: decoded pixels span .* not 0\.\.1"
    ) as err:
        inspect_import(ImportRequest(decoder=path))
    assert flag in str(err.value)
    plan = inspect_import(ImportRequest(decoder=path, output_range=flag))
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    images = plan.model.decode(z)
    raw = _bare(f.decoder(output=output), {"z": z}).transpose(0, 2, 3, 1)
    expected = (raw + 1) / 2 if flag == "-1,1" else 1 / (1 + np.exp(-raw))
    np.testing.assert_allclose(images, expected, atol=1e-5)


def test_an_ambiguous_output_is_refused_until_the_layout_is_given(tmp_path):
    path = f.write(tmp_path / "cube.onnx", f.decoder(4, 3, 3, 3, layout="nhwc"))
    with pytest.raises(ModelFileError, match="could be read several ways") as err:
        inspect_import(ImportRequest(decoder=path))
    assert "--layout" in str(err.value) and "cube.onnx" in str(err.value)
    plan = inspect_import(ImportRequest(decoder=path, layout="nhwc"))
    assert plan.decoder.layout == "nhwc"


def test_a_conditional_decoder_finds_its_condition_input_by_name(tmp_path):
    data = f.decoder(4, classes=3, z_name="latent", condition_name="onehot")
    plan = inspect_import(ImportRequest(decoder=f.write(tmp_path / "d.onnx", data)))
    assert (plan.decoder.z_input, plan.decoder.condition_input, plan.decoder.classes) == (
        "latent",
        "onehot",
        3,
    )
    assert plan.class_names == ("0", "1", "2")  # no names given: numbers
    model = plan.model
    z = np.zeros((2, 4), np.float32)
    a, b = model.decode(z, model.condition(np.array([0, 1])))
    assert not np.allclose(a, b)  # the condition reaches the decoder


def test_an_encoder_where_the_decoder_belongs_is_refused(tmp_path):
    path = f.write(tmp_path / "enc.onnx", f.encoder())
    with pytest.raises(
        ModelFileError, match=r"enc\.onnx: input image .* takes images.*is this the encoder"
    ):
        inspect_import(ImportRequest(decoder=path))


def test_a_decoder_where_the_encoder_belongs_is_refused(tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(4, 5, 5, 1))
    wrong = f.write(tmp_path / "wrong.onnx", f.decoder(4, 5, 5, 1))
    with pytest.raises(
        ModelFileError, match=r"wrong\.onnx: .*takes latent vectors.*is this the decoder"
    ):
        inspect_import(ImportRequest(decoder=dec, encoder=wrong))


def test_encoder_and_decoder_must_agree_on_d_and_image_size(tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(4))
    with pytest.raises(
        ModelFileError, match=r"enc8\.onnx: output mu is 8-D, but the decoder reads 4-D"
    ):
        inspect_import(
            ImportRequest(decoder=dec, encoder=f.write(tmp_path / "enc8.onnx", f.encoder(8)))
        )
    with pytest.raises(
        ModelFileError,
        match=r"big\.onnx: input image takes \(N, 3, 9, 9\), but the decoder makes \(N, 3, 6, 5\)",
    ):
        inspect_import(
            ImportRequest(decoder=dec, encoder=f.write(tmp_path / "big.onnx", f.encoder(4, 9, 9)))
        )


@pytest.mark.parametrize("outputs", ["two", "split", "mean"])
def test_encoder_output_forms(tmp_path, outputs):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(4))
    enc = f.write(tmp_path / "enc.onnx", f.encoder(4, outputs=outputs))
    plan = inspect_import(ImportRequest(decoder=dec, encoder=enc))
    images = np.random.default_rng(0).random((3, 6, 5, 3), dtype=np.float32)
    mean, var = plan.model.encode(images)
    both = _bare(f.encoder(4, outputs="split"), {"image": images.transpose(0, 3, 1, 2)})
    np.testing.assert_allclose(mean, both[:, :4], rtol=1e-5)
    if outputs == "mean":
        assert not plan.model.has_variance and np.all(var == 1)
    else:
        np.testing.assert_allclose(var, np.exp(both[:, 4:]), rtol=1e-4)


def test_external_data_and_custom_operators_are_refused_before_onnxruntime(tmp_path):
    good = f.decoder()
    assert scan_model(good).nodes >= 3 and not check_self_contained(good).custom_domains
    external = f.write(tmp_path / "ext.onnx", f.with_external_data(good, tmp_path))
    with pytest.raises(
        ModelFileError, match=r"ext\.onnx: the graph keeps 1 tensor\(s\) in external data"
    ):
        inspect_import(ImportRequest(decoder=external))
    custom = f.write(tmp_path / "custom.onnx", f.with_custom_operator(good))
    with pytest.raises(
        ModelFileError,
        match=r"custom\.onnx: the graph uses custom operators \(domain 'com\.example\.evil'",
    ):
        inspect_import(ImportRequest(decoder=custom))


@pytest.mark.parametrize("junk", [b"", b"\x00" * 10, b"hello world", b"\x0a\xff\xff\xff\xff\x0f"])
def test_bytes_that_are_not_a_graph_are_refused_in_one_line(tmp_path, junk):
    path = f.write(tmp_path / "junk.onnx", junk)
    with pytest.raises(ModelFileError) as err:
        inspect_import(ImportRequest(decoder=path))
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
    if junk:
        assert "this is not an ONNX model file" in str(err.value)


def test_the_scanner_refuses_truncated_protobuf():
    with pytest.raises(GraphRefused):
        scan_model(f.decoder()[:-7])


def test_a_decoder_only_import_opens_and_explores(tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(4, 8, 6, 3, classes=3))
    out = import_model(
        ImportRequest(decoder=dec, class_names=("cat", "dog", "owl")), tmp_path / "m.latentlab"
    )
    document = open_document(out)
    assert (
        isinstance(document.model, LatentModel)
        and document.points is None
        and document.source == "onnx"
    )
    info = describe(document)
    assert (info["latent_dim"], info["image_shape"], info["class_names"]) == (
        4,
        [8, 6, 3],
        ["cat", "dog", "owl"],
    )
    state = ExplorerState()
    state.open(document)
    before = state.decode().copy()
    state.set_slider(0, 2.0)
    state.set_class(2)
    assert state.decode().shape == (8, 6, 3) and not np.allclose(before, state.decode())


def test_class_names_must_match_the_condition(tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(classes=3))
    with pytest.raises(
        LatentlabError, match="--class-names names 2 classes, but the decoder's condition has 3"
    ):
        inspect_import(ImportRequest(decoder=dec, class_names=("a", "b")))


def test_a_damaged_bundle_is_refused_naming_the_file(tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder())
    out = import_model(ImportRequest(decoder=dec), tmp_path / "m.safetensors")
    data = bytearray(out.read_bytes())
    index = data.find(b"Sigmoid")  # inside the stored graph's bytes
    data[index : index + 7] = b"Sigmoyd"  # an operator onnxruntime does not know
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(
        ModelFileError, match=r"bad\.safetensors \(decoder graph\): onnxruntime cannot"
    ):
        open_document(bad)


def _bundle(tmp_path, **changes):
    from dataclasses import replace

    from latentlab.core.imported.bundle import read_bundle, write_bundle

    dec = f.write(tmp_path / "dec.onnx", f.decoder())
    out = import_model(ImportRequest(decoder=dec), tmp_path / "good.latentlab")
    bundle = replace(read_bundle(out), **changes)
    return write_bundle(bundle, tmp_path / "crafted.latentlab")


def test_a_file_carrying_a_custom_operator_graph_is_refused_on_open(tmp_path):
    evil = f.with_custom_operator(f.decoder())
    path = _bundle(tmp_path, graphs={"decoder": evil})
    with pytest.raises(
        ModelFileError, match=r"crafted\.latentlab \(decoder graph\): the graph uses custom"
    ):
        open_document(path)


def test_a_file_whose_points_do_not_fit_the_decoder_is_refused(tmp_path):
    from latentlab.core.explore.points import EncodedPoints

    points = EncodedPoints(
        mu=np.zeros((5, 7), np.float32),
        logvar=np.zeros((5, 7), np.float32),
        labels=np.zeros(5, np.int32),
    )
    with pytest.raises(
        ModelFileError, match=r"points\.mu must be finite float32 of shape \[5, 4\]"
    ):
        open_document(_bundle(tmp_path, points=points))


def test_a_native_model_and_an_imported_one_are_told_apart_by_content(tmp_path):
    from latentlab.core.vae.checkpoint import save_model
    from tests.gui.conftest import make_record

    native = save_model(make_record(), tmp_path / "looks-imported.latentlab")
    imported = _bundle(tmp_path)
    renamed = imported.rename(tmp_path / "looks-native.safetensors")
    assert open_document(native).source == "native"
    assert open_document(renamed).source == "onnx"


def test_nan_pixels_from_the_decoder_are_refused_at_import(tmp_path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(f.decoder())
    weights = numpy_helper.to_array(model.graph.initializer[0]).copy()
    weights[0, 0] = np.nan
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights, "W"))
    path = f.write(tmp_path / "nan.onnx", model.SerializeToString())
    with pytest.raises(ModelFileError, match=r"nan\.onnx: the decoder gave NaN or infinite pixels"):
        inspect_import(ImportRequest(decoder=path))
