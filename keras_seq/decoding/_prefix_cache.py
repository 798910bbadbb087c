"""A small thread-safe cache of vocabulary word prefixes for CTC LM fusion.

Deriving every prefix of every vocabulary word costs more than decoding a
short utterance, so `ctc_beam_search_decode` keeps the derived sets of the
last few vocabularies (like a decoder's prefix trie) across calls. Calls may
come from several threads at once (a data pipeline, a server), so the table
is guarded by a lock; the per-alphabet memo it hands out is a plain dict,
only ever filled with values that any thread would compute alike.
"""

from __future__ import annotations

import collections
import threading


class PrefixCache:
    """`get(vocabulary, letters)` -> `(words, prefixes, memo)`, least recently
    used vocabularies evicted beyond `max_entries`.

    `words` is the set of vocabulary words, `prefixes` every non-empty prefix
    of them, `memo` a dict per tuple of `(class, text)` letters that callers
    fill with the letters known to follow a prefix.

    Example:
    >>> from keras_seq.decoding._prefix_cache import PrefixCache
    >>> cache = PrefixCache(max_entries=2)
    >>> words, prefixes, memo = cache.get(["ab", "b"], ((1, "a"), (2, "b")))
    >>> sorted(prefixes)
    ['a', 'ab', 'b']
    >>> cache.get(("ab", "b"), ((1, "a"), (2, "b")))[2] is memo
    True
    """

    def __init__(self, max_entries=4):
        self.max_entries = max_entries
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return len(self._entries)

    def get(self, vocabulary, letters):
        key = tuple(vocabulary)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                words, prefixes, memos = entry
                return words, prefixes, memos.setdefault(letters, {})
        # Derive outside the lock (it is the slow part); the first to finish wins.
        words = set(key)
        prefixes = {w[:i] for w in words for i in range(1, len(w) + 1)}
        with self._lock:
            entry = self._entries.setdefault(key, (words, prefixes, {}))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            words, prefixes, memos = entry
            return words, prefixes, memos.setdefault(letters, {})


VOCABULARY_PREFIXES = PrefixCache()
