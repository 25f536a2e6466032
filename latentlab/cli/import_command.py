"""`latentlab import`: ONNX graphs and a data set into one model file, from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from latentlab.core.errors import LatentlabError
from latentlab.core.text import shown_path

EPILOG = """\
examples:
  latentlab import --decoder dec.onnx --out faces.latentlab
  latentlab import --decoder dec.onnx --encoder enc.onnx --data photos/ --out faces.latentlab
  latentlab import --decoder dec.onnx --encoder enc.onnx --data x.npz --class-names cat,dog \\
      --output-range -1,1 --out pets.latentlab

--data takes a folder with one sub-folder per class, a flat folder of images, an .npz with
'images' (and 'labels'), an .npy of images, or MNIST-style IDX files."""


def add_import_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "import",
        help="ONNX decoder (+ encoder, classifier) and your images into one model file",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--decoder", required=True, metavar="DEC.onnx", help="z (N, d) [+ one-hot (N, K)] -> images"
    )
    p.add_argument("--encoder", metavar="ENC.onnx", help="images -> mean [, log-variance]")
    p.add_argument("--classifier", metavar="CLS.onnx", help="images -> (N, K) class scores")
    p.add_argument("--data", metavar="PATH", help="the images to encode and show")
    p.add_argument("--attributes", metavar="FILE.csv", help="numeric columns, one row per image")
    p.add_argument("--class-names", metavar="a,b,c", help="names of the classes, in label order")
    p.add_argument(
        "--output-range",
        choices=("0,1", "-1,1", "logits"),
        default="0,1",
        help="what the decoder's pixels span (default 0,1)",
    )
    p.add_argument("--output", choices=("logits",), help="same as --output-range logits")
    p.add_argument(
        "--layout",
        choices=("nchw", "nhwc", "nhw", "flat"),
        help="the decoder output's layout, when its shape is ambiguous",
    )
    p.add_argument(
        "--input-layout",
        choices=("nchw", "nhwc", "nhw", "flat"),
        help="how the encoder and classifier take images",
    )
    p.add_argument(
        "--image-shape", metavar="H,W[,C]", help="the image size, for a flat or ambiguous output"
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="scale data images to the model's size instead of refusing",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="check and show what was found; write nothing"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the model file to write")
    return p


def request_from(args: argparse.Namespace):  # -> ImportRequest
    from latentlab.core.imported.importer import ImportRequest
    from latentlab.core.imported.layout import parse_image_shape

    names = None
    if args.class_names is not None:
        names = tuple(n.strip() for n in args.class_names.split(","))
    return ImportRequest(
        decoder=Path(args.decoder),
        encoder=Path(args.encoder) if args.encoder else None,
        classifier=Path(args.classifier) if args.classifier else None,
        data=Path(args.data) if args.data else None,
        attributes=Path(args.attributes) if args.attributes else None,
        class_names=names,
        output_range="logits" if args.output == "logits" else args.output_range,
        layout=args.layout,
        image_shape=parse_image_shape(args.image_shape) if args.image_shape else None,
        encoder_layout=args.input_layout,
        resize=args.resize,
    )


class _Bar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        from latentlab.core.jobs import Throttle

        self.stream, self.throttle, self.shown = stream, Throttle(0.1), False
        self.live = stream.isatty()  # a log file gets no carriage-return animation

    def __call__(self, progress) -> None:
        last = progress.total and progress.done >= progress.total
        if not self.live or progress.stage != "encoding":
            return
        if not self.throttle.ready(force=bool(last)):
            return
        filled = int(30 * progress.done / progress.total)
        self.stream.write(
            f"\r{progress.stage} [{'#' * filled}{'.' * (30 - filled)}] {progress.done:,}/{progress.total:,}"
        )
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def cmd_import(args: argparse.Namespace) -> int:
    from latentlab.core.atomic import check_writable
    from latentlab.core.imported.importer import import_model, inspect_import
    from latentlab.core.imported.layout import LayoutError

    out = Path(args.out)
    try:
        request = request_from(args)
    except LayoutError as exc:
        raise LatentlabError(str(exc)) from None
    if not args.dry_run:
        check_writable(out)  # before the graphs are run or the data read
    plan = inspect_import(request)
    for line in plan.summary():
        print(line)
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    bar = _Bar(sys.stderr)
    try:
        path = import_model(plan, out, report=bar)  # type: ignore[arg-type]
    finally:
        bar.clear()
    count = len(plan.source) if plan.source is not None else 0
    what = f"{count:,} images encoded" if count else "decoder only"
    print(f"wrote {shown_path(path)} ({what}, {path.stat().st_size / 1e6:.1f} MB)")
    return 0
