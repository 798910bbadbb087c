"""Tidies executed tutorial notebooks before they are committed.

Run it after executing a notebook in place, e.g.::

    KERAS_SEQ_FAST=1 jupyter nbconvert --to notebook --execute --inplace tutorials/06_*.ipynb
    python tutorials/clean_outputs.py tutorials/06_*.ipynb

It removes what changes from run to run without teaching anything: TensorFlow's
C++ start-up log lines (``I0000 00:00:... port.cc:153] oneDNN ...``, which
ipykernel captures from the process's stderr and which no environment variable
silences in TF 2.21) and nbclient's per-cell execution timestamps. It then
fails if an output still contains an absolute path of this machine (a temp
directory, the checkout, the virtual environment), so committed outputs read the
same on any clone.
"""

from __future__ import annotations

import re
import sys

_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] .*)$"
)
_MACHINE_PATH = re.compile(r"(/tmp/|/work/|/home/|/Users/|site-packages|\.venv/)")


def clean(path: str) -> list[str]:
    """Cleans the notebook at `path` in place; returns the machine paths still found."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    leftovers = []
    for index, cell in enumerate(notebook.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = [line for line in output["text"].splitlines(keepends=True)
                         if not _LOG_LINE.match(line.rstrip("\n"))]
                if not "".join(lines).strip():
                    continue
                output["text"] = "".join(lines)
            kept.append(output)
        cell["outputs"] = kept
        for output in kept:
            text = output.get("text") or "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str)
            )
            for match in _MACHINE_PATH.finditer(text):
                start = max(0, match.start() - 60)
                leftovers.append(f"{path}: cell {index}: ...{text[start:match.end() + 60]}...")
    nbformat.write(notebook, path)
    return leftovers


def main(paths: list[str]) -> int:
    problems = [problem for path in paths for problem in clean(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
