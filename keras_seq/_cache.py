"""Where keras_seq keeps files it makes once per machine (generated speech,
compiled custom ops): ``$KERAS_SEQ_CACHE``, or ``~/.cache/keras_seq``."""

from __future__ import annotations

import os


def cache_dir(*parts):
    """The cache root joined with `parts`.

    >>> import os
    >>> saved = os.environ.get("KERAS_SEQ_CACHE")
    >>> os.environ["KERAS_SEQ_CACHE"] = "/tmp/ks"
    >>> cache_dir("ops")
    '/tmp/ks/ops'
    >>> if saved is None:
    ...     del os.environ["KERAS_SEQ_CACHE"]
    ... else:
    ...     os.environ["KERAS_SEQ_CACHE"] = saved
    """
    root = os.environ.get("KERAS_SEQ_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "keras_seq")
    return os.path.join(root, *parts)
