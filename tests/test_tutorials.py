"""The tutorial notebooks are listed, committed with outputs, and small.

`make test` executes every notebook with nbmake; these checks cover what an
execution cannot see: the committed state a reader finds on the code host.
"""

import json
import pathlib
import re

import pytest

TUTORIALS = pathlib.Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
MAX_BYTES = 1_500_000
# Absolute paths of the machine that ran a notebook: temp dirs, home dirs, the
# checkout, the virtual environment. Committed outputs must read the same on any clone.
MACHINE_PATH = re.compile(r"(/tmp/|/home/|/root/|/Users/|/work/|site-packages|\.venv/|[A-Z]:\\\\)")


def outputs(notebook):
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            yield from cell.get("outputs", [])


def output_text(output):
    texts = [output.get("text", "")]
    texts += [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
    texts += [output.get("evalue", "")] + output.get("traceback", [])
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


def test_every_notebook_is_listed_in_the_tutorials_readme():
    readme = (TUTORIALS / "README.md").read_text()
    missing = [n.name for n in NOTEBOOKS if f"({n.name})" not in readme]
    assert not missing, f"add a row (with a link) to tutorials/README.md for {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_is_committed_small_with_figures_and_clean_outputs(path):
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size:,} bytes; keep figures small (lower DPI)"
    notebook = json.loads(path.read_text())
    executed = list(outputs(notebook))
    images = [o for o in executed if "image/png" in o.get("data", {})]
    assert images, f"{path.name} has no figure in its committed outputs; execute it in place before committing"
    errors = [o["ename"] for o in executed if o["output_type"] == "error"]
    assert not errors, f"{path.name} was committed with errors: {errors}"
    for output in executed:
        match = MACHINE_PATH.search(output_text(output))
        assert match is None, f"{path.name}: an output contains a machine path: ...{output_text(output)[max(0, match.start() - 60):match.end() + 60]}..."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_checks_its_claims_and_has_a_fast_mode(path):
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    assert re.search(r"\bassert\b|np\.testing\.assert", code), f"{path.name} asserts nothing"
    assert "KERAS_SEQ_FAST" in code, f"{path.name} must read KERAS_SEQ_FAST (fast mode unless it is 0)"
