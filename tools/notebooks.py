"""Keep the guide's notebooks executable, clean and checked.

Usage (from the repository root)::

    python tools/notebooks.py execute          # re-execute every notebook in place, then clean
    python tools/notebooks.py execute 02       # only notebooks whose name starts with 02
    python tools/notebooks.py clean            # normalise metadata and execution counts
    python tools/notebooks.py check            # fail if one is unclean, unexecuted or errored

Cleaning keeps what nbval compares (sources and outputs) and removes what changes from one
run to the next without meaning anything: per-cell metadata such as timings and collapsed
state, cell ids, and the notebook metadata beyond the kernel and language names (widget
state included: its model ids are random). Execution counts are renumbered 1, 2, 3, ... in
cell order, as a clean top-to-bottom run numbers them: nbval skips the output check of a cell
whose execution count is empty (and fails one that has outputs), so the counts must stay.

Notebooks run in a kernel on the interpreter that runs this tool (as ``pytest --nbval
--nbval-current-env`` does), whatever kernelspec named "python3" is installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = {"tags"}  # nbval reads tags (nbval-ignore-output, nbval-skip, ...)


def notebook_paths(prefix: str | None = None) -> list[Path]:
    """The committed notebooks in reading order (optionally those whose name starts with prefix)."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    return [p for p in paths if prefix is None or p.name.startswith(prefix)]


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Normalise a notebook in place and return it.

    An executed notebook (one with any output or execution count) gets the counts 1, 2, ...
    in code-cell order, on its cells and their ``execute_result`` outputs; an unexecuted one
    keeps none.
    """
    nb.metadata = {
        "kernelspec": dict(KERNEL),
        "language_info": {"name": "python"},
    }
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    executed = any(c.outputs or c.execution_count is not None for c in code_cells)
    count = 0
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        cell.pop("id", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        count += 1
        cell.execution_count = count if executed else None
        for output in cell.outputs:
            if "execution_count" in output:
                output.execution_count = cell.execution_count
            output.pop("transient", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    text = nbformat.writes(nb, version=4)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _current_env_kernel_manager() -> object:
    """A kernel manager that starts ipykernel on this very interpreter (``sys.executable``)."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    class CurrentEnv(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> object:
            spec = ipykernel.kernelspec.get_kernel_dict()  # argv: [sys.executable, ...]
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES, **spec)

    return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnv())


def execute(path: Path, timeout: int = 300) -> float:
    """Execute one notebook in place (cwd = notebooks/), clean it, return the seconds taken."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        nb,
        km=_current_env_kernel_manager(),
        timeout=timeout,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    seconds = time.perf_counter() - started
    write(clean(nb), path)
    return seconds


def problems(path: Path) -> list[str]:
    """What is wrong with a committed notebook (empty when it is clean and executed)."""
    nb = nbformat.read(path, as_version=4)
    found = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells:
        found.append("has no code cells")
    if code_cells and not any(c.outputs for c in code_cells):
        found.append("is committed without outputs (run: python tools/notebooks.py execute)")
    for i, cell in enumerate(code_cells):
        for output in cell.outputs:
            if output.output_type == "error":
                found.append(f"code cell {i} has an error output ({output.ename})")
            if output.output_type == "stream" and output.name == "stderr":
                text = "".join(output.text)
                if "Traceback" in text or "Warning" in text:
                    found.append(f"code cell {i} printed a warning or traceback to stderr")
    cleaned = clean(nbformat.read(path, as_version=4))
    if nbformat.writes(cleaned, version=4).strip() != path.read_text(encoding="utf-8").strip():
        found.append("is not clean (run: python tools/notebooks.py clean)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["execute", "clean", "check"])
    parser.add_argument("prefix", nargs="?", default=None, help="only notebooks starting with this")
    args = parser.parse_args(argv)
    paths = notebook_paths(args.prefix)
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    status = 0
    for path in paths:
        if args.command == "execute":
            print(f"{path.name}: executed in {execute(path):.1f} s")
        elif args.command == "clean":
            write(clean(nbformat.read(path, as_version=4)), path)
        else:
            for problem in problems(path):
                print(f"{path.name} {problem}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
