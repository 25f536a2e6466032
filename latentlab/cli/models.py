"""`latentlab info` and `eval`: what a model file holds, and how well it reconstructs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.text import shown_path
from .common import in_range


def cmd_info(args: argparse.Namespace) -> int:
    from ..core.vae.checkpoint import load_model

    record = load_model(args.file)
    _check_opens_in_app(record, args.file)
    if args.json:
        print(json.dumps(info_dict(record, args.file), indent=2))
        return 0
    print(info_text(record, args.file))
    return 0


def _check_opens_in_app(record: Any, path: str) -> None:
    """`info` accepts exactly the files the app opens, so build the explorer state as it does."""
    from ..core.errors import ModelFileError

    try:
        _explorer_state(record)
    except ValueError as exc:
        raise ModelFileError(
            f"{shown_path(path)}: {exc}"
        ) from None  # the app's words for the same file


def _explorer_state(record: Any) -> Any:
    """The explorer state on `record`, built exactly as the app builds it."""
    from ..core.explore.state import ExplorerState
    from ..core.vae.latent_model import vae_document

    state = ExplorerState()
    state.open(vae_document(record))
    return state


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
    from ..core.data.datasets import load_dataset
    from ..core.vae.checkpoint import load_model
    from ..core.vae.report import MAX_IWAE_K
    from ..core.vae.training import evaluate_record, resolve_device

    in_range("--iwae", args.iwae, 0, MAX_IWAE_K)
    resolve_device(args.device)
    record = load_model(args.file)
    dataset = load_dataset(record.config.dataset, args.data_dir)
    metrics = evaluate_record(record, dataset, device=args.device)
    if args.iwae:
        from ..core.vae.report import iwae_metrics

        metrics.update(iwae_metrics(record, dataset, args.iwae, device=args.device))
    if args.json:
        print(
            json.dumps({"file": args.file, "metrics": metrics, "stored": record.metrics}, indent=2)
        )
        return 0
    print(
        f"{shown_path(args.file)} on the {dataset.name} test set ({metrics['test_size']} images):"
    )
    for key, value in metrics.items():
        stored = record.metrics.get(key)
        note = f"   (stored: {stored:.4f})" if isinstance(stored, float) else ""
        print(f"  {key}: {value:.4f}{note}" if isinstance(value, float) else f"  {key}: {value}")
    return 0
