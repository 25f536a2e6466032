"""The app says what random styles are drawn from: the Random button and the per-epoch rows."""

import numpy as np

from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.density import LatentDensity
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui.latent_sliders import LatentSliders

from ..factories import TINY_CVAE, random_record


def _density(d: int) -> LatentDensity:
    return LatentDensity(
        weights=np.ones((10, 1), np.float32),
        means=np.full((10, 1, d), 0.5, np.float32),
        scale_tril=np.broadcast_to(1e-3 * np.eye(d), (10, 1, d, d)).astype(np.float32),
        components=(1,) * 10,
        covariance=("diag",) * 10,
        heldout_gain=0.0,
    )


def test_the_random_button_says_and_uses_the_class_mixture(qtbot):
    state = ExplorerState()
    sliders = LatentSliders(state)
    qtbot.addWidget(sliders)
    state.open(vae_document(random_record(TINY_CVAE)))
    assert "N(0, I)" in sliders._random.toolTip()
    record = random_record(TINY_CVAE)
    record.density = _density(TINY_CVAE.latent_dim)
    state.open(vae_document(record))
    assert "Gaussian mixture" in sliders._random.toolTip()
    sliders._random.click()
    np.testing.assert_allclose(state.z, 0.5, atol=0.01)
