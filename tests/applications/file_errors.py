"""A check the applications' loader tests share: a bad file is reported with
its path and line (imported by name: tests/applications is on `sys.path`)."""

from __future__ import annotations

import re

import pytest


def assert_loader_error(loader, path, text, pattern):
    """`loader(path)`, with `text` written to `path`, raises a `ValueError`
    whose message starts at the file's full path followed by the regex
    `pattern` (e.g. `", line 3: .*no tab"`)."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        loader(path)
    message = str(info.value)
    assert re.search(re.escape(str(path)) + pattern, message, re.S), message
