"""`latentlab info` and `eval`: what a model file holds, and how well it reconstructs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import in_range, is_native, open_state


def cmd_info(args: argparse.Namespace) -> int:
    """Any model file: the keys every kind has, then (latentlab's own) config, metrics, history."""
    state = open_state(args.file)
    document = state.document
    if args.json:
        print(json.dumps(info_json(document, args.file), indent=2))
        return 0
    lines = [shown_path(args.file), *summary_lines(document)]
    if is_native(document):
        lines += info_text(document.payload, args.file).splitlines()[1:]
    print("\n".join(lines))
    return 0


def info_json(document: Any, path: str) -> dict[str, Any]:
    """`model_files.describe` (latent_dim, image_shape, class_names, source...) and, for
    latentlab's own models, the record's config, metrics and history too."""
    from ..core import model_files

    described = model_files.describe(document)
    info = {"file": str(path), **{k: v for k, v in described.items() if k != "file"}}
    if is_native(document):
        info.update(info_dict(document.payload, path))
    return info


def summary_lines(document: Any) -> list[str]:
    """What any model is, in two lines: its latent and image sizes, classes and abilities."""
    model = document.model
    spec = model.image_spec
    names = model.class_names
    classes = f"{len(names)} classes: {', '.join(names)}" if names else "unlabelled (no classes)"
    colour = "RGB" if spec.channels == 3 else "grey"
    points = document.points
    images = document.images
    has = [
        "conditional decoder" if model.conditional else "decoder",
        "encoder" if model.can_encode else "no encoder",
        "classifier" if model.can_classify else "no classifier",
        f"{0 if points is None else len(points)} encoded points",
    ]
    if images is not None:
        has.append(f"{len(images.images)} stored images")
    attributes = sorted(getattr(images, "attributes", None) or {})
    if attributes:
        has.append("attributes " + ", ".join(attributes))
    return [
        f"  source {document.source}; latent_dim {model.latent_dim}; image_shape "
        f"{spec.height} x {spec.width} x {spec.channels} ({colour}); {classes}",
        "  " + ", ".join(has),
    ]


def info_dict(record: Any, path: str) -> dict[str, Any]:
    return {
        "file": str(path),
        "format_version": record.format_version,
        "kind": "conditional VAE" if record.config.conditional else "plain VAE",
        "config": record.config.to_dict(),
        "dataset": record.config.dataset,
        "class_names": list(record.class_names),
        "created": record.created,
        "metrics": record.metrics,
        "history": record.history,
        "test_points": len(record.test_encoding) if record.test_encoding else 0,
    }


def info_text(record: Any, path: str) -> str:
    cfg = record.config
    lines = [
        shown_path(path),
        f"  {'conditional' if cfg.conditional else 'plain'} VAE, {cfg.latent_dim} free latent "
        f"dimensions, {cfg.likelihood} likelihood, trained on {cfg.dataset}",
        f"  created {record.created}, format version {record.format_version}",
        "  config: " + ", ".join(f"{k}={v}" for k, v in cfg.to_dict().items()),
        "  metrics:",
    ]
    for key, value in record.metrics.items():
        lines.append(
            f"    {key}: {value:.4f}" if isinstance(value, float) else f"    {key}: {value}"
        )
    if record.history:
        lines.append("  history (test loss, nats/image):")
        for h in record.history:
            acc = h.get("test_accuracy")
            acc_text = f"  acc {acc:.4f}" if isinstance(acc, float) else ""
            test = h.get("test") if isinstance(h.get("test"), dict) else {}
            loss = [test.get(k, 0) for k in ("recon", "kl")]
            loss_text = f"{sum(loss):.2f}" if all(_is_number(v) for v in loss) else "?"
            lines.append(f"    epoch {h.get('epoch')}: {loss_text}{acc_text}")
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    """A JSON number (history entries come from files, so they may hold anything)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def cmd_eval(args: argparse.Namespace) -> int:
    """latentlab's own models: the ELBO on their data set (and IWAE); any other model: what needs
    no likelihood, reconstruction error on its stored images and latent statistics."""
    from ..core.vae.report import MAX_IWAE_K

    in_range("--iwae", args.iwae, 0, MAX_IWAE_K)
    if args.binarized and not args.iwae:
        raise LatentlabError("--binarized is for the importance-weighted likelihood: add --iwae K")
    document = open_state(args.file).document
    if is_native(document):
        return _eval_native(document, args)
    kind = f"an {document.source} model" if document.source == "onnx" else "this model"
    if args.iwae:
        raise LatentlabError(f"--iwae needs a latentlab model's likelihood; {kind} has none")
    if args.data_dir is not None:
        raise LatentlabError(
            f"--data-dir is for latentlab models' data sets; {kind} is evaluated on the images "
            "stored in its file"
        )
    return _eval_any(document, args)


def _eval_native(document: Any, args: argparse.Namespace) -> int:
    from ..core.data.datasets import load_dataset
    from ..core.vae.training import evaluate_record, resolve_device

    resolve_device(args.device)
    record = document.payload
    dataset = load_dataset(record.config.dataset, args.data_dir)
    metrics = evaluate_record(record, dataset, device=args.device)
    from ..core.vae.report import density_gain

    gain = density_gain(record, dataset.test_images, dataset.test_labels)
    if gain is not None:
        metrics["density_gain_nats"] = gain
    likelihood_note = None
    if args.iwae:
        from ..core.vae.report import iwae_metrics
        from .train import ProgressBar

        bar = ProgressBar(sys.stderr)
        figures = iwae_metrics(
            record,
            dataset,
            args.iwae,
            device=args.device,
            binarized=args.binarized,
            progress=lambda p: bar.show(p.done, p.total, p.stage),
        )
        bar.clear()
        likelihood_note = figures.pop("likelihood_note")
        metrics.update(figures)
    latent = _latent(document.points)
    probes = _probes(args, document, dataset.test_images, dataset.test_labels)
    if args.json:
        out = {"file": args.file, "metrics": metrics, "stored": record.metrics}
        if likelihood_note is not None:
            out["likelihood_note"] = likelihood_note
        if latent is not None:
            out["latent"] = latent
        out.update(probes or {})
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"{shown_path(args.file)} on the {dataset.name} test set ({metrics['test_size']} images):"
    )
    for key, value in metrics.items():
        stored = record.metrics.get(key)
        note = f"   (stored: {stored:.4f})" if isinstance(stored, float) else ""
        print(f"  {key}: {value:.4f}{note}" if isinstance(value, float) else f"  {key}: {value}")
    if latent is not None:
        print(_latent_line(latent, "stored test points"))
    if gain is not None:
        print(
            f"  aggregate posterior: the class mixtures are {gain:.2f} nats per image more likely "
            "than N(0, I) on the test set's z ~ q(z|x) (how far q(z) is from the prior)"
        )
    if "test_iwae_nll" in metrics:
        print(
            f"  IWAE: -log p(x) <= {metrics['test_iwae_nll']:.2f} +- {metrics['test_iwae_se']:.2f}"
            f" nats (k = {args.iwae}, standard error of the test-set mean)"
            + ("; the class is marginalised out" if record.config.conditional else "")
        )
        print(f"  note: {likelihood_note}")
    _print_probes(probes)
    return 0


def _eval_any(document: Any, args: argparse.Namespace) -> int:
    from ..core.explore.evaluation import reconstruction_error

    model = document.model
    stored = document.images
    metrics: dict[str, Any] = {}
    notes = []
    if stored is not None and model.can_encode:
        labels = getattr(stored, "labels", None)
        if model.conditional and not model.can_classify and labels is None:
            notes.append("no reconstruction error: the images have no labels to decode with")
        else:
            try:
                rec = reconstruction_error(model, stored.images, labels)
            except ValueError as exc:
                raise LatentlabError(f"{shown_path(args.file)}: {exc}") from None
            metrics.update(recon_mse=rec.mse, recon_mae=rec.mae, recon_images=rec.count)
    elif not model.can_encode:
        notes.append("no reconstruction error: the model has no encoder")
    else:
        notes.append("no reconstruction error: the file stores no images")
    latent = _latent(document.points)
    if latent is None:
        notes.append("no latent statistics: the file stores no encoded points")
    else:
        metrics.update(kl_total=latent["kl_total"], active_units=latent["active_units"])
    if not metrics:
        raise LatentlabError(f"{shown_path(args.file)}: nothing to evaluate ({'; '.join(notes)})")
    probes = _probes(args, document, None if stored is None else stored.images, None)
    if args.json:
        out = {"file": args.file, "source": document.source, "metrics": metrics, "notes": notes}
        if latent is not None:
            out["latent"] = latent
        out.update(probes or {})
        print(json.dumps(out, indent=2))
        return 0
    print(f"{shown_path(args.file)} ({document.source} model):")
    if "recon_mse" in metrics:
        print(
            f"  reconstruction of the {metrics['recon_images']} stored images, per value in "
            f"[0, 1]: mean squared error {metrics['recon_mse']:.5f}, "
            f"mean absolute error {metrics['recon_mae']:.5f}"
        )
    if latent is not None:
        print(_latent_line(latent, "stored points"))
        for j, (kl, mean, var) in enumerate(
            zip(latent["kl"], latent["mean"], latent["variance"], strict=True)
        ):
            print(f"    dimension {j}: KL {kl:.4f}  mean {mean:+.4f}  variance {var:.4f}")
    for note in notes:
        print(f"  {note}")
    _print_probes(probes)
    return 0


def _probes(args: argparse.Namespace, document: Any, images: Any, labels: Any) -> dict | None:
    """`--probes`: the probes and disentanglement objects (None without the option)."""
    if not getattr(args, "probes", False):
        return None
    from .probes_output import probe_figures

    return probe_figures(document, args.file, images, labels)


def _print_probes(probes: dict | None) -> None:
    if probes is not None:
        from .probes_output import print_probes

        print_probes(probes)


def _latent(points: Any) -> dict[str, Any] | None:
    """Latent statistics of the stored points as JSON-ready lists (None without points)."""
    from ..core.explore.evaluation import ACTIVE_KL, latent_statistics

    if points is None or len(points) == 0:
        return None
    stats = latent_statistics(points)
    return {
        "points": stats.count,
        "kl_total": stats.total_kl,
        "active_units": stats.active_units,
        "active_kl_threshold": ACTIVE_KL,
        "kl": stats.kl.tolist(),
        "mean": stats.mean.tolist(),
        "variance": stats.variance.tolist(),
    }


def _latent_line(latent: dict[str, Any], where: str) -> str:
    d = len(latent["kl"])
    return (
        f"  latent ({latent['points']} {where}): {latent['active_units']} of {d} dimensions "
        f"active (KL > {latent['active_kl_threshold']:g} nats), total KL "
        f"{latent['kl_total']:.3f} nats"
    )
