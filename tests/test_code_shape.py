"""The library's modules hold one concept and its functions stay readable.

Two limits on `keras_seq/` (issue 17):
- a module has at most 500 lines, unless it is a single-class module that
  reads top to bottom; those are listed in `LONG_SINGLE_CLASS_MODULES`, each
  with its reason;
- a function or method has at most 80 lines of code: from its first
  statement after the docstring to its end (docstrings, with their runnable
  examples, are documentation and do not count).
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_seq"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

LONG_SINGLE_CLASS_MODULES = {
    # Keras's MultiHeadAttention API (arguments, masks, caches, attention
    # axes, shapes) in one layer; its private helpers serve only it.
    "layers/multi_head_attention.py",
    # One class: the vocabulary's building, encoding, decoding and saving.
    "text/vocabulary.py",
}


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _name(path):
    return path.relative_to(PACKAGE).as_posix()


def _line_count(path):
    return len(path.read_text(encoding="utf-8").splitlines())


def _code_lines(function):
    """Lines from the first statement after the docstring to the end."""
    body = function.body
    first = body[0]
    if (
        len(body) > 1
        and isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        first = body[1]
    return function.end_lineno - first.lineno + 1


def test_long_modules_are_listed_single_class_modules():
    long = {_name(path) for path in _modules() if _line_count(path) > MAX_MODULE_LINES}
    assert long <= set(LONG_SINGLE_CLASS_MODULES), (
        f"modules over {MAX_MODULE_LINES} lines: {sorted(long - set(LONG_SINGLE_CLASS_MODULES))}; "
        "split them by concept"
    )


@pytest.mark.parametrize("name", sorted(LONG_SINGLE_CLASS_MODULES))
def test_listed_modules_are_long_and_hold_one_class(name):
    path = PACKAGE / name
    classes = [
        node.name
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef)
    ]
    assert len(classes) == 1, f"{name} defines {classes}: not a single-class module"
    # A listed module that has become short leaves the list.
    assert _line_count(path) > MAX_MODULE_LINES, f"{name} no longer needs its exception"


def test_no_function_has_more_than_80_lines_of_code():
    long = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = _code_lines(node)
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{_name(path)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines of code: {long}"


def test_the_counters_see_long_code(tmp_path):
    """The counters find what they look for (so the tests above can fail)."""
    source = "def f():\n    '''doc\n\n    more'''\n" + "    x = 1\n" * 81
    (function,) = ast.parse(source).body
    assert _code_lines(function) == 81
    (no_docstring,) = ast.parse("def g():\n    return 1\n").body
    assert _code_lines(no_docstring) == 1
    module = tmp_path / "long.py"
    module.write_text(source + "\n" * 420, encoding="utf-8")
    assert _line_count(module) == 505
