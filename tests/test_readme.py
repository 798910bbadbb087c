"""The README's layer examples must run as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def layer_examples():
    text = README.read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    setup = section.split("```python", 1)[1].split("```", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    examples = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        examples.extend(re.findall(r"`([^`]+)`", cells[-1].replace("\\|", "|")))
    return setup, examples


def test_every_layer_row_has_a_running_example():
    setup, examples = layer_examples()
    assert len(examples) >= 9
    namespace = {}
    exec(setup, namespace)
    for example in examples:
        exec(example, namespace)
