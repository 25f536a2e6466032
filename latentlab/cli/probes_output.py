"""`latentlab eval --probes`: what a model's z holds of each label and attribute, and MIG / DCI /
SAP, as JSON objects (`probes`, `disentanglement`) or a few lines of text."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..core.errors import LatentlabError
from ..core.text import shown_path


def probe_figures(
    document: Any, path: str, images: np.ndarray | None, labels: np.ndarray | None
) -> dict[str, Any]:
    """Run the probes on `document`'s points (encoded from `images` where they differ)."""
    from ..core.explore.probe_report import full_job, run_to_end
    from .train import ProgressBar

    stored = document.images
    attributes = getattr(stored, "attributes", None) or None
    bar = ProgressBar(sys.stderr)
    try:
        report = run_to_end(
            full_job(document.model, document.points, images, labels, attributes=attributes),
            lambda p: bar.show(p.done, p.total, p.stage),
        )
    except ValueError as exc:
        raise LatentlabError(f"{shown_path(path)}: cannot probe ({exc})") from None
    finally:
        bar.clear()
    return report.as_dict()


def print_probes(figures: dict[str, Any]) -> None:
    """The probe table, the skipped factors, the scores and each dimension's main factor."""
    print(f"  probes ({figures['probes_setup']['points']} points, held-out 20 %):")
    for name, score in figures["probes"].items():
        metric = next(iter(score["linear"]))
        shown = "accuracy" if metric == "accuracy" else "R^2"
        linear, mlp = score["linear"][metric], score["mlp"][metric]
        print(f"    {name}: {shown} linear {linear:.3f}, MLP {mlp:.3f}")
    for name, why in figures["probes_skipped"].items():
        print(f"    {name}: skipped ({why})")
    dis = figures["disentanglement"]
    parts = []
    if dis["mig"] is not None:
        parts.append(f"MIG {dis['mig']:.3f}")
    if dis["dci"] is not None:
        d = dis["dci"]
        parts.append(
            f"DCI disentanglement {d['disentanglement']:.3f}, completeness "
            f"{d['completeness']:.3f}, informativeness {d['informativeness']:.3f}"
        )
    if dis["sap"] is not None:
        parts.append(f"SAP {dis['sap']:.3f}")
    factors = ", ".join(dis["factors"]) or "none"
    print(f"  disentanglement over {factors}: " + ("; ".join(parts) or "—"))
    for note in dis["notes"]:
        print(f"    note: {note}")
    for row in dis["per_dimension"]:
        if row["carries_most"]:
            print(
                f"    z{row['dimension'] + 1}: carries most {row['carries_most']} "
                f"(normalised MI {row['normalised_mi']:.3f})"
            )
