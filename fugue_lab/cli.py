"""The ``fugue-lab`` command: the guide's tour, the benchmark suite and the HTML report.

Examples
--------
>>> from fugue_lab.cli import build_parser
>>> build_parser().parse_args(["tour", "--topics", "numerical-stability"]).topics
'numerical-stability'
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fugue-lab`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="fugue-lab",
        description="fugue_lab: fast, stable probabilistic programming for notebooks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    tour = commands.add_parser(
        "tour", help="run every topic of the performance guide on small sizes and print tables"
    )
    tour.add_argument(
        "--topics",
        default=None,
        help="comma-separated topic names to run (default: all; see --list)",
    )
    tour.add_argument("--list", action="store_true", help="list the topics and exit")
    tour.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    # The suite parses its own options (fugue-lab bench --help lists them).
    commands.add_parser(
        "bench",
        add_help=False,
        help="run the reference workloads against the floors (docs/benchmarks.md)",
    )

    report = commands.add_parser("report", help="write a self-contained HTML report")
    report.add_argument("--out", default="report.html", help="output path (default report.html)")
    report.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def _select_topics(names: str | None):
    from fugue_lab.diagnostics.topics import TOPICS

    if names is None:
        return list(TOPICS)
    by_name = {topic.name: topic for topic in TOPICS}
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in by_name:
            raise SystemExit(
                f"fugue-lab tour: unknown topic {name!r}; known topics: {', '.join(by_name)}"
            )
        chosen.append(by_name[name])
    return chosen


def _tour(args: argparse.Namespace) -> int:
    import pandas as pd

    topics = _select_topics(args.topics)
    if args.list:
        for topic in topics:
            print(f"{topic.name:28s} {topic.title}")
        return 0
    started = time.perf_counter()
    with pd.option_context(
        "display.width", 110, "display.max_columns", 12, "display.precision", 4
    ):
        for number, topic in enumerate(topics, 1):
            print(f"\n{'=' * 100}\n{number:2d}. {topic.title}\n{'=' * 100}")
            t0 = time.perf_counter()
            output = topic.run(quick=True, seed=args.seed)
            for note in output.notes:
                print(f"  - {note}")
            for name, frame in output.frames.items():
                print(f"\n[{name}]")
                print(frame.to_string(max_rows=20))
            for figure in output.figures.values():
                import matplotlib.pyplot as plt

                plt.close(figure)
            print(f"\n({time.perf_counter() - t0:.1f} s)")
    print(f"\nTour finished in {time.perf_counter() - started:.1f} s.")
    return 0


def _report(args: argparse.Namespace) -> int:
    from fugue_lab.diagnostics.report import write_report

    path = write_report(args.out, seed=args.seed)
    print(f"wrote {path}")
    return 0


def _bench(argv: list[str]) -> int:
    from fugue_lab.bench.suite import main as bench_main

    return int(bench_main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fugue-lab`` console script; returns the exit code."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        return _bench(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"tour": _tour, "report": _report}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
