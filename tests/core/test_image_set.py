"""ImageSet: one validated shape for every image collection (grey or RGB, labelled or not)."""

import numpy as np
import pytest

from latentlab.core.data.image_set import ImageDataset, ImageSet, as_image_set

from ..factories import tiny_dataset


def test_grey_images_gain_a_channel_axis_and_read_as_floats():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    s = ImageSet("grey", images, np.array([0, 1]), ("a", "b"))
    assert s.images.shape == (2, 3, 4, 1) and s.image_shape == (3, 4, 1) and len(s) == 2
    np.testing.assert_allclose(s.image(1)[..., 0], images[1] / 255.0)
    assert isinstance(s, ImageDataset)


def test_rgb_images_keep_their_channels_and_unlabelled_sets_have_no_labels():
    s = ImageSet("rgb", np.zeros((5, 6, 7, 3), np.uint8), attributes={"slant": np.zeros(5)})
    assert s.image_shape == (6, 7, 3) and s.labels is None and list(s.attributes) == ["slant"]


@pytest.mark.parametrize(
    ("images", "labels", "attributes", "problem"),
    [
        (np.zeros((2, 3, 4), np.float32), None, {}, "uint8"),
        (np.zeros((2, 3, 4, 2), np.uint8), None, {}, "1 or 3"),
        (np.zeros((2, 3, 4), np.uint8), np.array([0]), {}, "2 integer labels"),
        (np.zeros((2, 3, 4), np.uint8), np.array([0, 5]), {}, "below 2"),
        (np.zeros((2, 3, 4), np.uint8), None, {"x": np.zeros(3)}, "'x' needs 2"),
    ],
)
def test_bad_shapes_are_refused_with_the_set_named(images, labels, attributes, problem):
    with pytest.raises(ValueError, match=problem) as caught:
        ImageSet("mine", images, labels, ("a", "b"), attributes)
    assert str(caught.value).startswith("mine:")


def test_a_dataset_split_and_an_array_pair_become_the_same_image_set():
    data = tiny_dataset()
    test = data.split("test")
    assert test.images.shape[1:] == (28, 28, 1) and test.class_names == data.class_names
    np.testing.assert_array_equal(test.labels, data.test_labels)
    pair = as_image_set((data.test_images, data.test_labels), "pair")
    np.testing.assert_array_equal(pair.images, test.images)
    assert as_image_set(test) is test
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.split("valid")
