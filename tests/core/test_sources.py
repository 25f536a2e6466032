"""Images users bring (folders, .npz, .npy, IDX) read as chunks, and attribute CSV files."""

from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from latentlab.core.data import sources
from latentlab.core.data.attributes import read_attributes
from latentlab.core.data.idx import write_idx
from latentlab.core.data.sources import ImageSource, open_source
from latentlab.core.errors import DataError
from latentlab.core.jobs import CancelToken, JobCancelled

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


@pytest.fixture
def rng():
    return np.random.default_rng(15)


def save_png(path, pixels):
    """Write (H, W, 1 or 3) uint8 as a PNG (lossless: every pixel comes back exactly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)
    return pixels


def class_folder(root, rng, counts, shape=(8, 6, 3)):
    """{class: n images}; returns every image in ImageFolder order (classes, then files sorted)."""
    images = []
    for name, n in counts.items():
        for i in range(n):
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            images.append(save_png(root / name / f"{i:03d}.png", pixels))
    return np.stack(images)


def read_all(source, size=4, **kwargs):
    chunks = list(source.chunks(size, **kwargs))
    assert all(1 <= len(c) <= size and c.dtype == np.uint8 for c in chunks)
    return np.concatenate(chunks)


# --- folders --------------------------------------------------------------------------------


def test_class_folder_names_classes_by_sorted_folder_and_round_trips_pixels(tmp_path, rng):
    images = class_folder(tmp_path / "photos", rng, {"cat": 3, "bird": 2, "dog": 4})
    source = open_source(tmp_path / "photos")
    assert isinstance(source, ImageSource)
    assert source.kind == "image folder (one sub-folder per class)"
    assert source.name == "photos"
    assert source.class_names == ("bird", "cat", "dog")
    assert source.labels.dtype == np.int64
    assert source.labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert len(source) == 9
    assert source.image_shape == source.source_shape == (8, 6, 3)
    order = np.concatenate([images[3:5], images[0:3], images[5:]])  # bird, cat, dog
    assert np.array_equal(read_all(source, 4), order)
    assert [len(c) for c in source.chunks(4)] == [4, 4, 1]


def test_flat_grey_folder_is_unlabelled(tmp_path, rng):
    root = tmp_path / "digits"
    images = np.stack(
        [
            save_png(root / f"{i}.png", rng.integers(0, 256, (5, 7, 1), dtype=np.uint8))
            for i in range(5)
        ]
    )
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.png").write_bytes(b"junk")  # hidden entries are not listed
    source = open_source(root)
    assert source.kind == "flat image folder"
    assert source.labels is None and source.class_names == ()
    assert source.image_shape == (5, 7, 1)
    assert np.array_equal(read_all(source, 2), images)


def test_images_nested_inside_a_class_folder_belong_to_it(tmp_path, rng):
    class_folder(tmp_path / "d", rng, {"a": 1, "b": 1})
    save_png(
        tmp_path / "d" / "a" / "more" / "x.png", rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)
    )
    source = open_source(tmp_path / "d")
    assert source.labels.tolist() == [0, 0, 1]


def test_folder_channels_convert_as_pillow_does(tmp_path, rng):
    rgb = class_folder(tmp_path / "rgb", rng, {"x": 3})
    grey = open_source(tmp_path / "rgb", channels=1)
    assert grey.image_shape == (8, 6, 1) and grey.source_shape == (8, 6, 3)
    expected = np.stack([np.array(Image.fromarray(im).convert("L"))[..., None] for im in rgb])
    assert np.array_equal(read_all(grey), expected)

    flat = class_folder(tmp_path / "grey", rng, {"x": 2}, shape=(4, 4, 1))
    back = read_all(open_source(tmp_path / "grey", channels=3))
    assert back.shape == (2, 4, 4, 3)
    assert np.array_equal(back, np.repeat(flat, 3, axis=-1))


def test_folder_of_mixed_grey_and_rgb_yields_the_first_images_channels(tmp_path, rng):
    save_png(tmp_path / "m" / "a.png", rng.integers(0, 256, (4, 4, 1), dtype=np.uint8))
    rgb = save_png(tmp_path / "m" / "b.png", rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    out = read_all(open_source(tmp_path / "m"))
    assert out.shape == (2, 4, 4, 1)
    assert np.array_equal(out[1, ..., 0], np.array(Image.fromarray(rgb).convert("L")))


def test_sixteen_bit_and_transparent_palette_images_read_without_warnings(tmp_path, rng):
    deep = np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 257
    (tmp_path / "m").mkdir()
    Image.fromarray(deep).save(tmp_path / "m" / "a.png")  # mode I;16
    palette = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).convert("P")
    palette.save(tmp_path / "m" / "b.png", transparency=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = read_all(open_source(tmp_path / "m"))
    assert np.array_equal(out[0, ..., 0], (deep >> 8).astype(np.uint8))  # scaled, not clipped
    assert out.shape == (2, 16, 16, 1)


def test_size_mismatch_names_the_file_and_both_sizes(tmp_path, rng):
    class_folder(tmp_path / "photos", rng, {"cat": 2}, shape=(32, 32, 3))
    with pytest.raises(DataError) as err:
        open_source(tmp_path / "photos", size=(64, 64))
    shown = tmp_path / "photos" / "cat" / "000.png"
    assert str(err.value) == (
        f"{shown}: image is 32 x 32, the model reads 64 x 64; pass --resize to scale"
    )


def test_resize_scales_folder_images_with_pillow(tmp_path, rng):
    images = class_folder(tmp_path / "p", rng, {"a": 2, "b": 1}, shape=(12, 10, 3))
    source = open_source(tmp_path / "p", size=(6, 5), resize=True)
    assert source.image_shape == (6, 5, 3) and source.source_shape == (12, 10, 3)
    expected = [
        np.array(Image.fromarray(im).resize((5, 6), Image.Resampling.BILINEAR)) for im in images
    ]
    assert np.array_equal(read_all(source), np.stack(expected))


def test_an_odd_sized_image_in_a_folder_is_named_unless_resizing(tmp_path, rng):
    class_folder(tmp_path / "p", rng, {"a": 2}, shape=(8, 8, 1))
    save_png(tmp_path / "p" / "b" / "odd.png", rng.integers(0, 256, (9, 8, 1), dtype=np.uint8))
    source = open_source(tmp_path / "p")  # listing reads no pixels: found while streaming
    with pytest.raises(DataError) as err:
        read_all(source)
    first = tmp_path / "p" / "a" / "000.png"
    odd = tmp_path / "p" / "b" / "odd.png"
    assert str(err.value) == f"{odd}: image is 9 x 8, {first} is 8 x 8; pass --resize to scale"
    assert read_all(open_source(tmp_path / "p", resize=True)).shape == (3, 8, 8, 1)


def test_a_folder_streams_one_file_at_a_time(tmp_path, rng, monkeypatch):
    class_folder(tmp_path / "big", rng, {"a": 5, "b": 5}, shape=(4, 4, 1))
    reads = []
    real = sources._read_image
    monkeypatch.setattr(sources, "_read_image", lambda path, c: reads.append(path) or real(path, c))
    source = open_source(tmp_path / "big")
    assert reads == []  # opening lists the files and peeks at one header
    chunks = source.chunks(3)
    first = next(chunks)
    assert len(first) == 3 and len(reads) == 3
    next(chunks)
    assert len(reads) == 6
    assert len(list(chunks)) == 2 and len(reads) == 10


def test_cancel_stops_between_chunks(tmp_path, rng):
    class_folder(tmp_path / "c", rng, {"a": 6}, shape=(4, 4, 1))
    token = CancelToken()
    chunks = open_source(tmp_path / "c").chunks(2, cancel=token)
    assert len(next(chunks)) == 2
    token.cancel()
    with pytest.raises(JobCancelled):
        next(chunks)
    with pytest.raises(JobCancelled):
        next(open_source(tmp_path / "c").chunks(2, cancel=lambda: True))


@pytest.mark.parametrize("size", [0, -1])
def test_chunk_size_must_be_positive(tmp_path, rng, size):
    class_folder(tmp_path / "c", rng, {"a": 1})
    with pytest.raises(ValueError, match="at least 1"):
        next(open_source(tmp_path / "c").chunks(size))


def test_empty_and_imageless_folders_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no images found in the folder \(looked for"):
        open_source(tmp_path / "empty")
    (tmp_path / "text" / "sub").mkdir(parents=True)
    (tmp_path / "text" / "a.txt").write_text("x")
    with pytest.raises(DataError, match="no images found in the folder or its sub-folders"):
        open_source(tmp_path / "text")


def test_an_imageless_folder_of_idx_files_points_at_the_images_file(tmp_path, rng):
    write_idx(
        tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (2, 3, 3), dtype=np.uint8)
    )
    with pytest.raises(
        DataError, match=r"give the images file itself .*t10k-images-idx3-ubyte\.gz"
    ):
        open_source(tmp_path)


def test_images_beside_class_folders_and_empty_class_folders_are_refused(tmp_path, rng):
    class_folder(tmp_path / "mixed", rng, {"a": 1})
    save_png(tmp_path / "mixed" / "loose.png", rng.integers(0, 256, (8, 6, 3), dtype=np.uint8))
    with pytest.raises(
        DataError, match=r"holds images \(loose.png\) beside class sub-folders \(a\)"
    ):
        open_source(tmp_path / "mixed")
    class_folder(tmp_path / "gap", rng, {"a": 1})
    (tmp_path / "gap" / "b").mkdir()
    with pytest.raises(DataError, match="class folder 'b' holds no images"):
        open_source(tmp_path / "gap")


def test_corrupt_images_name_the_file_and_pillows_complaint(tmp_path, rng):
    class_folder(tmp_path / "bad", rng, {"a": 2}, shape=(16, 16, 3))
    broken = tmp_path / "bad" / "a" / "001.png"
    broken.write_bytes(broken.read_bytes()[:60])  # a truncated PNG: the header survives
    with pytest.raises(DataError) as err:
        read_all(open_source(tmp_path / "bad"))
    assert str(err.value).startswith(f"{broken}: cannot read the image (")
    assert "\n" not in str(err.value)

    junk = tmp_path / "junk" / "000.png"
    junk.parent.mkdir()
    junk.write_bytes(b"this is not a png at all")
    with pytest.raises(DataError, match=re.escape(f"{junk}: not an image Pillow can read as PNG")):
        open_source(tmp_path / "junk")


@needs_fifo
def test_fifos_are_refused_or_skipped_without_hanging(tmp_path, rng):
    os.mkfifo(tmp_path / "data.npy")
    with pytest.raises(DataError, match=r"data.npy: is a named pipe \(FIFO\)"):
        open_source(tmp_path / "data.npy")
    class_folder(tmp_path / "f", rng, {"a": 2})
    os.mkfifo(tmp_path / "f" / "a" / "zzz.png")
    source = open_source(tmp_path / "f")
    assert len(source) == 2
    assert source.notes == ("skipped 1 non-regular file(s) with image names",)
    assert len(read_all(source)) == 2


def test_a_file_swapped_for_a_fifo_after_listing_is_refused(tmp_path, rng):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo")
    class_folder(tmp_path / "f", rng, {"a": 2})
    source = open_source(tmp_path / "f")
    swapped = tmp_path / "f" / "a" / "001.png"
    swapped.unlink()
    os.mkfifo(swapped)
    with pytest.raises(DataError, match=re.escape(f"{swapped}: is a named pipe")):
        read_all(source)


def test_missing_paths_single_images_and_unknown_files_are_refused(tmp_path, rng):
    with pytest.raises(DataError, match="nope: not found"):
        open_source(tmp_path / "nope")
    save_png(tmp_path / "one.png", rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    with pytest.raises(DataError, match=re.escape("one.png: a single image; give the folder")):
        open_source(tmp_path / "one.png")
    (tmp_path / "x.bin").write_bytes(b"hello world")
    with pytest.raises(DataError, match=re.escape("x.bin: not a data file latentlab reads")):
        open_source(tmp_path / "x.bin")


def test_bad_arguments_are_programming_errors(tmp_path, rng):
    class_folder(tmp_path / "c", rng, {"a": 1})
    with pytest.raises(ValueError, match="channels"):
        open_source(tmp_path / "c", channels=2)
    with pytest.raises(ValueError, match="size"):
        open_source(tmp_path / "c", size=(0, 4))


# --- arrays ---------------------------------------------------------------------------------


def test_npy_uint8_grey_streams_in_order(tmp_path, rng, monkeypatch):
    images = rng.integers(0, 256, (7, 5, 4), dtype=np.uint8)
    np.save(tmp_path / "x.npy", images)
    sizes = []
    real = sources.read_exact
    monkeypatch.setattr(sources, "read_exact", lambda f, n: sizes.append(n) or real(f, n))
    source = open_source(tmp_path / "x.npy")
    assert (source.kind, source.name, len(source)) == ("npy", "x.npy", 7)
    assert source.labels is None and source.image_shape == (5, 4, 1)
    out = read_all(source, 3)
    assert np.array_equal(out[..., 0], images)
    assert sizes == [3 * 20, 3 * 20, 1 * 20]  # a chunk's bytes at a time, never the whole file
    assert out.flags.writeable


def test_npy_floats_in_unit_range_become_exact_bytes(tmp_path):
    levels = np.arange(256, dtype=np.float64).reshape(4, 8, 8, 1) / 255
    np.save(tmp_path / "f.npy", levels.astype(np.float32))
    out = read_all(open_source(tmp_path / "f.npy"))
    assert np.array_equal(out, np.arange(256, dtype=np.uint8).reshape(4, 8, 8, 1))


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (np.float32(1.5), "image 3 holds the value 1.5; float images must lie in [0, 1]"),
        (np.float32(np.nan), "image 3 holds the value nan; float images must lie in [0, 1]"),
        (np.int16(256), "image 3 holds the value 256; integer images must be 0..255"),
        (np.int16(-1), "image 3 holds the value -1; integer images must be 0..255"),
    ],
)
def test_pixel_values_out_of_range_are_refused(tmp_path, values, problem):
    images = np.zeros((5, 2, 2), dtype=values.dtype)
    images[3, 1, 0] = values
    np.save(tmp_path / "v.npy", images)
    with pytest.raises(DataError) as err:
        read_all(open_source(tmp_path / "v.npy"), 2)
    assert str(err.value) == f"{tmp_path / 'v.npy'}: {problem}" + (
        " (divide 0..255 data by 255)" if "float" in problem else ""
    )


def test_channels_first_arrays_are_transposed(tmp_path, rng):
    nhwc = rng.integers(0, 256, (3, 6, 5, 3), dtype=np.uint8)
    np.save(tmp_path / "chw.npy", nhwc.transpose(0, 3, 1, 2))
    source = open_source(tmp_path / "chw.npy")
    assert source.source_shape == (6, 5, 3)
    assert np.array_equal(read_all(source), nhwc)


def test_fortran_order_arrays_read_correctly(tmp_path, rng):
    images = np.asfortranarray(rng.integers(0, 256, (4, 3, 5), dtype=np.uint8))
    np.save(tmp_path / "f.npy", images)
    assert np.array_equal(read_all(open_source(tmp_path / "f.npy"), 3)[..., 0], images)


def test_array_channels_match_pillows_conversion(tmp_path, rng):
    rgba = rng.integers(0, 256, (4, 5, 6, 4), dtype=np.uint8)
    np.save(tmp_path / "rgba.npy", rgba)
    grey = read_all(open_source(tmp_path / "rgba.npy", channels=1))
    expected = np.stack([np.array(Image.fromarray(im, "RGBA").convert("L")) for im in rgba])
    assert np.array_equal(grey[..., 0], expected)
    rgb = read_all(open_source(tmp_path / "rgba.npy"))
    assert np.array_equal(rgb, rgba[..., :3])  # alpha dropped, as Pillow's RGBA -> RGB


def test_array_size_mismatch_and_resize(tmp_path, rng):
    images = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "a.npy", images)
    with pytest.raises(DataError) as err:
        open_source(tmp_path / "a.npy", size=(64, 64))
    assert str(err.value) == (
        f"{tmp_path / 'a.npy'}: images are 32 x 32, the model reads 64 x 64; pass --resize to scale"
    )
    out = read_all(open_source(tmp_path / "a.npy", size=(16, 8), channels=1, resize=True))
    grey = [Image.fromarray(im).convert("L") for im in images]
    expected = [np.array(g.resize((8, 16), Image.Resampling.BILINEAR)) for g in grey]
    assert np.array_equal(out[..., 0], np.stack(expected))


def test_npz_images_and_labels_named_by_sorted_values(tmp_path, rng):
    images = rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8)
    np.savez_compressed(tmp_path / "d.npz", images=images, labels=np.array([10, 3, 7, 3, 10]))
    source = open_source(tmp_path / "d.npz")
    assert source.kind == "npz"
    assert source.class_names == ("3", "7", "10")  # numeric order, not "10" < "3"
    assert source.labels.tolist() == [2, 0, 1, 0, 2] and source.labels.dtype == np.int64
    assert np.array_equal(read_all(source, 2), images)


def test_npz_accepts_x_y_and_word_labels(tmp_path, rng):
    x = rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    np.savez(tmp_path / "xy.npz", x=x, y=np.array([["dog"], ["cat"], ["dog"]]))
    source = open_source(tmp_path / "xy.npz")
    assert source.class_names == ("cat", "dog") and source.labels.tolist() == [1, 0, 1]
    assert np.array_equal(read_all(source)[..., 0], x)


def test_npz_label_problems(tmp_path, rng):
    x = rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    path = tmp_path / "d.npz"
    np.savez(path, images=x, labels=np.array([0, 1]))
    with pytest.raises(DataError) as err:
        open_source(path)
    assert str(err.value) == f"{path}: 3 images but {path} [labels] has 2 labels"
    np.savez(path, images=x, labels=np.array([0.5, 1, 2]))
    with pytest.raises(DataError, match="labels must be whole numbers"):
        open_source(path)
    np.savez(path, pictures=x)
    with pytest.raises(DataError, match=r"no 'images' \(or 'x'\) array; the file holds pictures"):
        open_source(path)


def test_object_arrays_are_refused_without_unpickling(tmp_path, monkeypatch):
    objects = np.empty(3, dtype=object)
    objects[:] = [np.zeros((2, 2)), "a", 1]
    np.save(tmp_path / "o.npy", objects, allow_pickle=True)
    np.savez(tmp_path / "o.npz", images=np.zeros((3, 2, 2), np.uint8), labels=objects)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(
        DataError, match=re.escape("o.npy: holds Python objects, which latentlab never unpickles")
    ):
        open_source(tmp_path / "o.npy")
    with pytest.raises(DataError, match=r"o.npz \[labels\]: holds Python objects"):
        open_source(tmp_path / "o.npz")


def test_truncated_and_damaged_arrays_are_refused(tmp_path, rng):
    np.save(tmp_path / "t.npy", rng.integers(0, 256, (4, 8, 8), dtype=np.uint8))
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[:-10])
    with pytest.raises(DataError, match=r"t.npy: truncated: the header says \(4, 8, 8\) uint8"):
        open_source(tmp_path / "t.npy")
    (tmp_path / "z.npz").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(DataError, match=re.escape("z.npz: not a readable .npz file")):
        open_source(tmp_path / "z.npz")
    (tmp_path / "h.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 'bad'}")
    with pytest.raises(DataError, match=re.escape("h.npy: not a valid .npy array")):
        open_source(tmp_path / "h.npy")


def test_arrays_of_the_wrong_shape_say_what_they_need(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros((3, 784), np.uint8))
    with pytest.raises(
        DataError, match=r"found shape \(3, 784\); reshape flat rows to \(N, H, W\)"
    ):
        open_source(tmp_path / "flat.npy")
    np.save(tmp_path / "none.npy", np.zeros((0, 4, 4), np.uint8))
    with pytest.raises(DataError, match="holds no images"):
        open_source(tmp_path / "none.npy")


# --- IDX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_idx_images_find_their_labels_beside_them(tmp_path, rng, gz):
    suffix = ".gz" if gz else ""
    images = rng.integers(0, 256, (6, 7, 5), dtype=np.uint8)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, gzip=gz)
    write_idx(
        tmp_path / f"t10k-labels-idx1-ubyte{suffix}",
        np.array([4, 2, 2, 9, 4, 2], np.uint8),
        gzip=gz,
    )
    source = open_source(tmp_path / f"t10k-images-idx3-ubyte{suffix}", channels=3)
    assert (source.kind, len(source), source.source_shape) == ("idx", 6, (7, 5, 1))
    assert source.class_names == ("2", "4", "9") and source.labels.tolist() == [1, 0, 0, 2, 1, 0]
    assert source.notes == (f"labels from t10k-labels-idx1-ubyte{suffix}",)
    assert np.array_equal(read_all(source, 4), np.repeat(images[..., None], 3, axis=-1))


def test_idx_without_labels_and_labels_given_as_images(tmp_path, rng):
    write_idx(
        tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (2, 3, 3), dtype=np.uint8)
    )
    source = open_source(tmp_path / "train-images-idx3-ubyte.gz")
    assert source.labels is None and source.class_names == ()
    assert source.notes == ("no labels file beside it (looked for train-labels-idx1-ubyte(.gz))",)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([1, 2, 3], np.uint8))
    with pytest.raises(DataError) as err:
        open_source(tmp_path / "train-images-idx3-ubyte.gz")
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    assert str(err.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte.gz'}: 2 images but {labels} has 3 labels"
    )
    with pytest.raises(DataError, match="an IDX labels file"):
        open_source(labels)


def test_damaged_idx_is_refused_when_read(tmp_path, rng):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, rng.integers(0, 256, (4, 3, 3), dtype=np.uint8), gzip=False)
    path.write_bytes(path.read_bytes()[:-5])
    source = open_source(path)  # the header alone is read up front
    with pytest.raises(DataError, match="images-idx3-ubyte: truncated"):
        read_all(source)


# --- attributes -----------------------------------------------------------------------------


def test_attributes_are_numeric_columns_in_order(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("\ufeffthickness, slant,,\n1.5,-2,0,\n2,3e-1,1,7\n\n", encoding="utf-8")
    found = read_attributes(path, 2)
    assert list(found) == ["thickness", "slant", "column 3", "column 4"]
    assert found["thickness"].dtype == np.float64
    assert found["slant"].tolist() == [-2.0, 0.3]
    assert np.isnan(found["column 4"][0]) and found["column 4"][1] == 7.0


def test_attributes_accept_semicolons_and_tabs(tmp_path):
    (tmp_path / "s.csv").write_text("a;b\n1;2\n")
    (tmp_path / "t.tsv").write_text("a\tb\n1\t2\n")
    assert read_attributes(tmp_path / "s.csv", 1)["b"].tolist() == [2.0]
    assert read_attributes(tmp_path / "t.tsv", 1)["b"].tolist() == [2.0]


@pytest.mark.parametrize(
    ("text", "count", "problem"),
    [
        ("a,b\n1,2\n3,4\n", 3, "2 rows of attributes, but the data has 3 images"),
        ("a,b\n1,2\n3,4\n5,6\n", 2, "3 rows of attributes, but the data has 2 images"),
        ("a,name\n1,cat\n", 1, "column 'name' is not numeric (line 2: 'cat')"),
        ("a,b\n1\n", 1, "line 2 has 1 fields, the header has 2"),
        ("a,a\n1,2\n", 1, "column 'a' appears twice in the header row"),
        ("a\ninf\n", 1, "column 'a' holds 'inf' at line 2"),
        ("", 0, "no header row"),
    ],
)
def test_bad_attribute_files_say_what_is_wrong(tmp_path, text, count, problem):
    path = tmp_path / "attrs.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_attributes(path, count)
    assert str(err.value).startswith(f"{path}: {problem}")
    assert "\n" not in str(err.value)


def test_attribute_files_that_cannot_be_read(tmp_path):
    with pytest.raises(DataError, match=re.escape("missing.csv: file not found")):
        read_attributes(tmp_path / "missing.csv", 1)
    (tmp_path / "latin.csv").write_bytes("a\n\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=re.escape("latin.csv: not UTF-8 text")):
        read_attributes(tmp_path / "latin.csv", 1)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.csv")
        with pytest.raises(DataError, match=r"pipe.csv: is a named pipe \(FIFO\)"):
            read_attributes(tmp_path / "pipe.csv", 1)


def test_open_source_reexports_read_attributes():
    assert sources.read_attributes is read_attributes


def test_zip_members_are_streamed_not_loaded_whole(tmp_path, rng, monkeypatch):
    images = rng.integers(0, 256, (9, 4, 4), dtype=np.uint8)
    np.savez_compressed(tmp_path / "s.npz", images=images)
    reads = []
    real = zipfile.ZipExtFile.read
    monkeypatch.setattr(
        zipfile.ZipExtFile, "read", lambda self, n=-1: reads.append(n) or real(self, n)
    )
    chunks = open_source(tmp_path / "s.npz").chunks(4)
    first = next(chunks)
    assert np.array_equal(first[..., 0], images[:4])
    assert -1 not in reads and max(reads) <= 4 * 16 + 4096  # header reads and one chunk's bytes
