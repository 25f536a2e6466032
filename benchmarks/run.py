"""Run the benchmarks and print one table: `python benchmarks/run.py [--quick] [--json FILE]`.

Every module `benchmarks/bench_*.py` is a benchmark. Its interface, so new ones (slider-to-pixels
in the real app, responsiveness while training) plug in without touching this file:

    NAME: str                      what --only selects, e.g. "training"
    PARTS: tuple[str, ...]         optional sub-benchmarks, selected as --only training.speed
    DESCRIPTION: str               one line for --list
    def run(args) -> list[Result]  args: this parser's Namespace, plus args.parts
    def add_arguments(parser)      optional: the module's own options

`args.parts` maps module names to the set of parts asked for (empty set: all). Modules import
their heavy dependencies inside `run`, so listing and selecting cost nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
for _path in (str(HERE.parent), str(HERE)):  # this checkout's latentlab, and `import common`
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import (  # noqa: E402
    Result,
    load_average,
    log,
    table,
    unavailable,
    write_json,
)


def discover(folder: Path = HERE) -> dict[str, ModuleType]:
    """Every bench_*.py module in `folder`, by its NAME, in file-name order."""
    modules: dict[str, ModuleType] = {}
    for path in sorted(folder.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        if not callable(getattr(module, "run", None)):
            continue
        modules[getattr(module, "NAME", path.stem.removeprefix("bench_"))] = module
    return modules


def parse_only(only: list[str] | None, modules: dict[str, ModuleType]) -> dict[str, set[str]]:
    """`--only training.speed,startup` -> {"training": {"speed"}, "startup": set()}."""
    if not only:
        return {name: set() for name in modules}
    chosen: dict[str, set[str]] = {}
    for item in (x.strip() for arg in only for x in arg.split(",")):
        if not item:
            continue
        name, _, part = item.partition(".")
        if name not in modules:
            raise SystemExit(f"run.py: unknown benchmark {name!r}; known: {', '.join(modules)}")
        parts = getattr(modules[name], "PARTS", ())
        if part and part not in parts:
            raise SystemExit(
                f"run.py: {name} has no part {part!r}; its parts: {', '.join(parts) or 'none'}"
            )
        if not part:
            chosen[name] = set()  # the whole module
        elif name not in chosen or chosen[name]:  # unless the whole module was asked for
            chosen.setdefault(name, set()).add(part)
    return chosen


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="latentlab benchmarks: medians with min-max, printed as a table.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run in under two minutes")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME[.PART]",
        help="run only these benchmarks (comma-separated or repeated); see --list",
    )
    parser.add_argument("--list", action="store_true", help="list benchmarks and their parts")
    parser.add_argument(
        "--data-dir", help="MNIST folder (default: $LATENTLAB_DATA_DIR or ../shared)"
    )
    parser.add_argument(
        "--device", default="cpu", help="training device: cpu (default), auto, cuda or mps"
    )
    parser.add_argument(
        "--model", help="model file for start-up and memory (default: the bundled model)"
    )
    for module in modules.values():
        add = getattr(module, "add_arguments", None)
        if add is not None:
            add(parser)
    return parser


def run_all(
    modules: dict[str, ModuleType], args: argparse.Namespace
) -> list[tuple[str, list[Result]]]:
    """Run the selected modules in order; a module that crashes gives one row saying so."""
    sections = []
    for name, module in modules.items():
        if name not in args.parts:
            continue
        log(f"{name}: start")
        t0 = time.perf_counter()
        try:
            results = module.run(args)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc(file=sys.stderr)
            results = [unavailable(f"{name}: failed", "", "", f"{type(exc).__name__}: {exc}")]
        log(f"{name}: done in {time.perf_counter() - t0:.1f} s")
        sections.append((name, results))
    return sections


def main(argv: list[str] | None = None) -> int:
    modules = discover()
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    if args.list:
        for name, module in modules.items():
            parts = ", ".join(getattr(module, "PARTS", ())) or "-"
            print(f"{name:<10} {getattr(module, 'DESCRIPTION', '')}  [parts: {parts}]")
        return 0
    args.parts = parse_only(args.only, modules)
    load_before = load_average()
    t0 = time.perf_counter()
    sections = run_all(modules, args)
    seconds = time.perf_counter() - t0
    for name, results in sections:
        print(f"\n== {name} ==")
        print(table(results))
    load_after = load_average()
    print(
        f"\n{'quick run' if args.quick else 'run'} took {seconds:.0f} s; "
        f"load average before {load_before}, after {load_after} "
        "(above the core count, timings are noisy)"
    )
    if args.json:
        write_json(
            args.json,
            [r for _, rs in sections for r in rs],
            {
                "quick": args.quick,
                "only": args.only,
                "device": args.device,
                "seconds": round(seconds, 1),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "sections": {name: [r.name for r in rs] for name, rs in sections},
            },
        )
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
