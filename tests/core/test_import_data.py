"""Importing with data: folders, arrays and IDX files encoded in chunks into the model file,
labels and class names kept, attributes stored, sizes checked, cancel leaving nothing behind."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core.errors import DataError, LatentlabError
from latentlab.core.imported import importer
from latentlab.core.imported.importer import ImportRequest, import_model, inspect_import, run_import
from latentlab.core.jobs import CancelToken, JobCancelled
from latentlab.core.model_files import open_document
from tests import onnx_factory as f

H, W, C, D = 6, 5, 3, 4


def _graphs(tmp_path, classes: int = 0, c: int = C):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(D, H, W, c, classes=classes))
    enc = f.write(tmp_path / "enc.onnx", f.encoder(D, H, W, c))
    return dec, enc


def _folder(tmp_path, names=("cat", "dog", "owl"), per_class=4, size=(H, W)):
    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    arrays = []
    for name in names:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
            arrays.append(pixels)
    return root, np.stack(arrays)


def test_an_image_folder_is_encoded_with_its_classes_and_images(tmp_path):
    dec, enc = _graphs(tmp_path)
    root, pixels = _folder(tmp_path)
    out = import_model(ImportRequest(decoder=dec, encoder=enc, data=root), tmp_path / "m.latentlab")
    document = open_document(out)
    assert document.model.class_names == ("cat", "dog", "owl")
    np.testing.assert_array_equal(document.points.labels, np.repeat([0, 1, 2], 4))
    np.testing.assert_array_equal(document.images.images, pixels)  # stored at full size
    mean, _ = document.model.encode(pixels.astype(np.float32) / 255)
    np.testing.assert_allclose(document.points.mu, mean, rtol=1e-5, atol=1e-6)


def test_class_names_given_in_another_order_keep_each_image_in_its_class(tmp_path):
    dec, enc = _graphs(tmp_path)
    root, _ = _folder(tmp_path)
    request = ImportRequest(decoder=dec, encoder=enc, data=root, class_names=("owl", "cat", "dog"))
    document = open_document(import_model(request, tmp_path / "m.latentlab"))
    assert document.model.class_names == ("owl", "cat", "dog")
    np.testing.assert_array_equal(document.points.labels, np.repeat([1, 2, 0], 4))


def test_a_conditional_decoder_must_have_as_many_classes_as_the_data(tmp_path):
    dec, enc = _graphs(tmp_path, classes=2)
    root, _ = _folder(tmp_path)
    with pytest.raises(
        LatentlabError,
        match=r"class counts disagree: the decoder's condition has 2, .*photos\) has 3",
    ):
        inspect_import(ImportRequest(decoder=dec, encoder=enc, data=root))


def test_a_size_mismatch_names_both_sizes_and_resize_opts_in(tmp_path):
    dec, enc = _graphs(tmp_path)
    root, _ = _folder(tmp_path, size=(9, 8))
    with pytest.raises(DataError, match=r"image is 9 x 8, the model reads 6 x 5; pass --resize"):
        inspect_import(ImportRequest(decoder=dec, encoder=enc, data=root))
    plan = inspect_import(ImportRequest(decoder=dec, encoder=enc, data=root, resize=True))
    assert any("resized from 9 x 8" in line for line in plan.summary())
    document = open_document(import_model(plan, tmp_path / "m.latentlab"))
    assert document.images.images.shape == (12, H, W, C)


def test_an_unlabelled_npz_with_attributes(tmp_path):
    dec, enc = _graphs(tmp_path)
    images = np.random.default_rng(1).random((7, H, W, C), dtype=np.float32)
    np.savez(tmp_path / "x.npz", images=images)
    csv = tmp_path / "attrs.csv"
    csv.write_text("brightness,size\n" + "\n".join(f"{i * 0.5},{i}" for i in range(7)) + "\n")
    request = ImportRequest(decoder=dec, encoder=enc, data=tmp_path / "x.npz", attributes=csv)
    document = open_document(import_model(request, tmp_path / "m.latentlab"))
    assert document.model.class_names == () and len(document.points) == 7
    np.testing.assert_allclose(document.images.attributes["size"], np.arange(7))
    from latentlab.core.model_files import describe

    assert describe(document)["attributes"] == ["brightness", "size"]
    with pytest.raises(DataError, match="2 rows of attributes, but the data has 7 images"):
        csv.write_text("a\n1\n2\n")
        inspect_import(request)


def test_data_needs_an_encoder(tmp_path):
    dec, _ = _graphs(tmp_path)
    root, _ = _folder(tmp_path)
    with pytest.raises(LatentlabError, match="give --encoder too"):
        inspect_import(ImportRequest(decoder=dec, data=root))


def test_grey_idx_files(tmp_path):
    import gzip
    import struct

    dec, enc = _graphs(tmp_path, c=1)
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (10, H, W), dtype=np.uint8)
    labels = (np.arange(10) % 2).astype(np.uint8)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as g:
        g.write(struct.pack(">IIII", 0x803, 10, H, W) + images.tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as g:
        g.write(struct.pack(">II", 0x801, 10) + labels.tobytes())
    request = ImportRequest(decoder=dec, encoder=enc, data=tmp_path / "t10k-images-idx3-ubyte.gz")
    document = open_document(import_model(request, tmp_path / "m.latentlab"))
    assert document.model.class_names == ("0", "1") and document.model.image_spec.channels == 1
    np.testing.assert_array_equal(document.images.images[..., 0], images)


def test_many_images_are_kept_as_thumbnails_within_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "STORED_IMAGE_BYTES", 40 * 9 * 3)  # room for 40 images of 3 x 3
    dec = f.write(tmp_path / "dec.onnx", f.decoder(D, 12, 12, 3))
    enc = f.write(tmp_path / "enc.onnx", f.encoder(D, 12, 12, 3))
    np.save(tmp_path / "x.npy", np.full((40, 12, 12, 3), 200, np.uint8))
    request = ImportRequest(decoder=dec, encoder=enc, data=tmp_path / "x.npy")
    document = open_document(import_model(request, tmp_path / "m.latentlab"))
    assert document.images.images.shape == (40, 3, 3, 3) and (document.images.images == 200).all()


def test_cancel_stops_the_import_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK", 2)
    dec, enc = _graphs(tmp_path)
    root, _ = _folder(tmp_path)
    token = CancelToken()
    job = run_import(
        ImportRequest(decoder=dec, encoder=enc, data=root), tmp_path / "m.latentlab", token
    )
    seen = [next(job), next(job)]
    token.cancel()
    with pytest.raises(JobCancelled):
        for _ in job:
            pass
    assert seen[-1].done == 2 and not any(tmp_path.glob("*m.latentlab*"))


def test_the_cli_imports_prints_what_it_found_and_info_reads_the_file(tmp_path, capsys):
    dec, enc = _graphs(tmp_path)
    root, _ = _folder(tmp_path)
    out = tmp_path / "pets.latentlab"
    args = [
        "import",
        "--decoder",
        str(dec),
        "--encoder",
        str(enc),
        "--data",
        str(root),
        "--out",
        str(out),
    ]
    assert main([*args, "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out and not out.exists()
    assert main(args) == 0
    printed = capsys.readouterr()
    assert (
        "image folder (one sub-folder per class)" in printed.out
        and "12 images encoded" in printed.out
    )
    assert open_document(out).model.class_names == ("cat", "dog", "owl")


def test_the_cli_refuses_a_mismatch_in_one_line_and_writes_nothing(tmp_path, capsys):
    dec, _ = _graphs(tmp_path)
    enc8 = f.write(tmp_path / "enc8.onnx", f.encoder(8, H, W, C))
    out = tmp_path / "x.latentlab"
    code = main(["import", "--decoder", str(dec), "--encoder", str(enc8), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "enc8.onnx" in err and not out.exists()


def test_every_picture_command_works_on_an_imported_colour_model(tmp_path, capsys):
    dec, enc = _graphs(tmp_path, classes=3)
    root, _ = _folder(tmp_path)
    model = tmp_path / "pets.latentlab"
    assert (
        main(
            [
                "import",
                "--decoder",
                str(dec),
                "--encoder",
                str(enc),
                "--data",
                str(root),
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "decode",
                str(model),
                "--z",
                "-1,0.5,0,2",
                "--class",
                "dog",
                "--out",
                str(tmp_path / "d.npy"),
            ]
        )
        == 0
    )
    image = np.load(tmp_path / "d.npy")
    document = open_document(model)
    expected = document.model.decode(
        np.array([[-1, 0.5, 0, 2]], np.float32), document.model.condition(np.array([1]))
    )[0]
    np.testing.assert_allclose(image, expected, atol=1e-6)
    assert main(["sample", str(model), "--out", str(tmp_path / "s.npy"), "--rows", "2"]) == 0
    assert np.load(tmp_path / "s.npy").shape == (2, 3, H, W, C)
    assert (
        main(["morph", str(model), "--from", "0", "--to", "5", "--out", str(tmp_path / "m.gif")])
        == 0
    )
    with Image.open(tmp_path / "m.gif") as gif:
        assert gif.mode in ("P", "RGB") and gif.n_frames >= 2
    assert (
        main(
            [
                "manifold",
                str(model),
                "--out",
                str(tmp_path / "g.png"),
                "--class",
                "owl",
                "--size",
                "3",
            ]
        )
        == 0
    )
    assert main(["eval", str(model)]) == 0
    assert "reconstruction of the 12 stored images" in capsys.readouterr().out
