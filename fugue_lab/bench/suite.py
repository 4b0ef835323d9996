"""The benchmark suite: W1-W5 in every mode that exists, beside the floors and the peers.

:func:`run_suite` returns one tidy :class:`pandas.DataFrame` (the columns of
:data:`~fugue_lab.bench.workloads.COLUMNS`); :func:`main` is the command line
behind ``fugue-lab bench`` and ``python -m fugue_lab.bench``::

    fugue-lab bench                       # the full run (a few minutes)
    fugue-lab bench --quick --no-peers    # a short run (about half a minute)
    fugue-lab bench --workloads W2,W3 --out results.csv --plot results.png

How to read a row: ``median_s`` (with ``min_s``/``max_s``) is seconds per call over
the repeats; ``ratio_to_floor`` is that median divided by the median of the
workload's hand-written floor (``floor_name``), timed in the same process, so a
ratio is comparable across machines where absolute times are not; 1.0 means as
fast as the hand-written code, below 1.0 faster.  The correctness figures
(``log_evidence``, ``posterior_mean_mu``, ``ess``, ``hit_ratio``, ``check_ok``)
sit beside the times with the exact values where they are known.  Modes that do
not exist in this installation appear with ``status="skipped"`` and the reason.

Examples
--------
>>> frame = run_suite(quick=True, include_peers=False, workloads=["W5"])  # doctest: +SKIP
>>> set(frame["workload"])  # doctest: +SKIP
{'W5 cow'}
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from fugue_lab.bench.harness import Timing, format_environment, single_threaded
from fugue_lab.bench.workloads import (
    COLUMNS,
    BenchConfig,
    w1_rows,
    w2_rows,
    w3_rows,
    w4_rows,
    w5_rows,
)
from fugue_lab.errors import MissingExtraError

__all__ = ["WORKLOADS", "format_frame", "main", "plot_results", "run_suite"]

#: Workload key -> the function that times it.
WORKLOADS = {"W1": w1_rows, "W2": w2_rows, "W3": w3_rows, "W4": w4_rows, "W5": w5_rows}


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("pandas", "lab", "the benchmark suite's table") from exc
    return pd


def _select(workloads: Iterable[str] | str | None) -> list[str]:
    if workloads is None:
        return list(WORKLOADS)
    if isinstance(workloads, str):
        workloads = workloads.split(",")
    chosen = []
    for name in workloads:
        key = name.strip().upper()
        if not key:
            continue
        if key not in WORKLOADS:
            raise ValueError(
                f"run_suite: workloads must name some of {', '.join(WORKLOADS)}, got {name!r}"
            )
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise ValueError(f"run_suite: workloads is empty; choose from {', '.join(WORKLOADS)}")
    return chosen


def _floors_from(rows: list[dict[str, Any]]) -> dict[Any, Timing]:
    """The floors timed so far, keyed as the peers look them up."""
    out: dict[Any, Timing] = {}
    for row in rows:
        if row["implementation"] != "floor" or row["status"] != "ok":
            continue
        timing = Timing(row["median_s"], row["min_s"], row["max_s"], row["repeats"], 1, None)
        name = row["floor_name"]
        if name == "floor_prior3":
            out["W1"] = timing
        elif name == "floor_is_vec100":
            out[("W2", row["n"])] = timing
        elif name == "floor_mh" and row["workload"] == "W3 mh20":
            out[("W3", row["n"])] = timing
    return out


def _annotate_peers(rows: list[dict[str, Any]]) -> None:
    """Add "ours/peer" ratios to each timed peer row's note."""
    ours = [r for r in rows if r["implementation"] == "fugue_lab" and r["status"] == "ok"]
    for row in rows:
        if row["implementation"] in ("fugue_lab", "floor", "python-dict") or row["status"] != "ok":
            continue
        # W1 times one execution whatever n is; elsewhere n (particles, iterations) must match.
        # Lockstep rows time 64 chains at once: not comparable with one peer chain.
        mates = [r for r in ours if r["workload"] == row["workload"]
                 and (r["workload"].startswith("W1") or r["n"] == row["n"])
                 and not r["mode"].startswith("lockstep")]
        if not mates:
            continue
        parts = [f"{m['mode']} {m['median_s'] / row['median_s']:.3g}" for m in mates]
        note = "fugue_lab/peer time: " + ", ".join(parts)
        row["note"] = f"{row['note']}; {note}" if row["note"] else note


def run_suite(
    quick: bool = False,
    include_peers: bool = True,
    workloads: Iterable[str] | str | None = None,
    *,
    seed: int = 0,
    progress: bool = False,
) -> Any:
    """Run the reference workloads and return one row per (workload, mode, implementation).

    Parameters
    ----------
    quick
        Smaller sizes and fewer repeats (about half a minute without peers).  The
        full run adds W2 at N = 1,000,000 with peak memory, W3 mh50, W4 over 20
        seeds and W5 at 10,000 sites.
    include_peers
        Also time the workloads in Pyro and NumPyro where they are installed
        (``pip install 'fugue_lab[bench-peers]'``); missing peers give skipped rows.
    workloads
        Keys to run, e.g. ``["W1", "W3"]`` or ``"W1,W3"`` (default: all five).
    seed
        Seeds every random stream.
    progress
        Print one line per workload to stderr as it finishes.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`~fugue_lab.bench.workloads.COLUMNS`, in order; times in
        seconds (raw floats); ``attrs["environment"]`` holds the environment header.

    Raises
    ------
    ValueError
        If ``workloads`` names an unknown workload.
    MissingExtraError
        If pandas is not installed (``pip install 'fugue_lab[lab]'``).
    """
    pd = _pandas()
    chosen = _select(workloads)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"run_suite: seed must be an int >= 0, got {seed!r}")
    config = BenchConfig(quick=bool(quick), seed=seed)
    rows: list[dict[str, Any]] = []
    with single_threaded():
        for key in chosen:
            started = time.perf_counter()
            rows.extend(WORKLOADS[key](config))
            if progress:
                print(f"# {key} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if include_peers:
            from fugue_lab.bench.peers import peer_rows

            started = time.perf_counter()
            rows.extend(peer_rows(config, set(chosen), _floors_from(rows)))
            _annotate_peers(rows)
            if progress:
                print(f"# peers done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # Group each workload's rows together (peers beside fugue_lab), keeping the run order within.
    order = {key: i for i, key in enumerate(WORKLOADS)}
    rows.sort(key=lambda r: order.get(r["workload"][:2], len(order)))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["check_ok"] = frame["check_ok"].astype("object")
    frame.attrs["environment"] = format_environment()
    frame.attrs["quick"] = bool(quick)
    return frame


def _scaled(seconds: float) -> str:
    if not isinstance(seconds, float) or math.isnan(seconds):
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_frame(frame: Any, *, wide: bool = False) -> str:
    """A readable text table of the suite's frame (times scaled to s/ms/us/ns for display).

    The frame itself keeps raw seconds; only this rendering rounds.
    """
    pd = _pandas()
    shown = pd.DataFrame({
        "workload": frame["workload"],
        "mode": frame["mode"],
        "impl": frame["implementation"],
        "n": frame["n"],
        "median": frame["median_s"].map(_scaled),
        "min-max": [f"{_scaled(a)}-{_scaled(b)}" if a == a else ""
                    for a, b in zip(frame["min_s"], frame["max_s"])],
        "x floor": frame["ratio_to_floor"].map(lambda r: "" if r != r else f"{r:.3g}"),
        "min x": frame["min_ratio_to_floor"].map(lambda r: "" if r != r else f"{r:.3g}"),
        "rust": frame["rust_anchor_s"].map(_scaled),
        "log Z": frame["log_evidence"].map(lambda v: "" if v != v else f"{v:.2f}"),
        "E[mu]": frame["posterior_mean_mu"].map(lambda v: "" if v != v else f"{v:.3f}"),
        "ess": frame["ess"].map(lambda v: "" if v != v else f"{v:.3g}"),
        "hit": frame["hit_ratio"].map(lambda v: "" if v != v else f"{v:.4f}"),
        "peak MB": frame["peak_bytes"].map(lambda v: "" if v != v else f"{v / 1e6:.4g}"),
        "ok": frame["check_ok"].map(lambda v: "" if v is None or v != v else str(bool(v))),
        "status": frame["status"],
    })
    table = shown.to_string(index=False)
    notes = [f"  [{i}] {w} / {m} / {impl}: {note}"
             for i, (w, m, impl, note) in enumerate(zip(frame["workload"], frame["mode"],
                                                         frame["implementation"], frame["note"]))
             if note]
    if wide:
        return table + "\n\nnotes:\n" + "\n".join(notes)
    return table + "\n\nnotes (by row):\n" + "\n".join(notes)


def plot_results(frame: Any, path: str | None = None) -> Any:
    """Bar charts of the run: median time per row (log scale) and the ratio to the floor.

    Returns the matplotlib Figure (made without pyplot, so no global state changes);
    with ``path`` it is also saved there.
    """
    import numpy as np

    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "lab", "the benchmark plot") from exc
    ok = frame[(frame["status"] == "ok") & frame["median_s"].notna()]
    labels = [f"{w} | {m} | {i} (n={n:,})" for w, m, i, n in
              zip(ok["workload"], ok["mode"], ok["implementation"], ok["n"])]
    colours = {"fugue_lab": "#1f77b4", "floor": "#7f7f7f", "pyro": "#d62728",
               "numpyro": "#2ca02c", "numpyro-jit": "#98df8a", "python-dict": "#ff7f0e"}
    colour = [colours.get(i, "#9467bd") for i in ok["implementation"]]
    height = max(4.0, 0.22 * len(ok) + 1.5)
    fig = Figure(figsize=(13, height), layout="constrained")
    ax_t, ax_r = fig.subplots(1, 2, sharey=True, width_ratios=[1.2, 1])
    ypos = list(range(len(ok)))[::-1]
    ax_t.barh(ypos, ok["median_s"], color=colour)
    ax_t.set_xscale("log")
    ax_t.set_xlabel("median seconds per call (log scale)")
    ax_t.set_yticks(ypos, labels, fontsize=7)
    rust = ok["rust_anchor_s"]
    has_rust = rust.notna()
    if has_rust.any():
        ax_t.scatter(rust[has_rust], [y for y, h in zip(ypos, has_rust) if h], marker="|",
                     s=120, color="black", label="Fugue (Rust) anchor, WORKLOADS.md", zorder=3)
        ax_t.legend(loc="lower right", fontsize=7)
    ratio = ok["ratio_to_floor"].to_numpy(dtype=float)
    has_ratio = ~np.isnan(ratio)
    # Bars grow from 1 (as fast as the hand-written floor): left of 1 is faster.
    ax_r.barh(np.asarray(ypos)[has_ratio], ratio[has_ratio] - 1.0, left=1.0,
              color=np.asarray(colour)[has_ratio])
    ax_r.axvline(1.0, color="black", linewidth=0.8)
    ax_r.set_xscale("log")
    ax_r.set_xlabel("time / floor's time, same process (log; < 1 is faster)")
    title = "fugue_lab benchmark suite" + (" (--quick)" if frame.attrs.get("quick") else "")
    fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fugue-lab bench``."""
    parser = argparse.ArgumentParser(
        prog="fugue-lab bench",
        description="Time WORKLOADS.md's W1-W5 in every mode that exists, beside the "
                    "hand-written floors and the peers (Pyro, NumPyro), in one process.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--out", metavar="CSV", help="write the frame to this CSV file")
    parser.add_argument("--plot", metavar="PNG", help="save a bar chart of the run here")
    parser.add_argument("--no-peers", action="store_true", help="skip Pyro and NumPyro")
    parser.add_argument("--workloads", metavar="W1,W2", default=None,
                        help=f"comma-separated subset of {','.join(WORKLOADS)} (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite from the command line; returns the exit code (1 if a mode errored).

    Examples
    --------
    >>> main(["--workloads", "W9"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        chosen = _select(args.workloads)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"# fugue-lab bench: {', '.join(chosen)}{' (quick)' if args.quick else ''}, "
          f"peers {'off' if args.no_peers else 'on'}", flush=True)
    started = time.perf_counter()
    frame = run_suite(quick=args.quick, include_peers=not args.no_peers, workloads=chosen,
                      seed=args.seed, progress=True)
    print(frame.attrs["environment"])  # after the run: it names the peers that were loaded
    print(format_frame(frame))
    print(f"\n# suite finished in {time.perf_counter() - started:.1f} s")
    if args.out:
        frame.to_csv(args.out, index=False)
        print(f"# wrote {args.out}")
    if args.plot:
        plot_results(frame, args.plot)
        print(f"# wrote {args.plot}")
    errors = int((frame["status"] == "error").sum())
    if errors:
        print(f"# {errors} mode(s) raised: see the rows with status 'error'", file=sys.stderr)
        return 1
    return 0
