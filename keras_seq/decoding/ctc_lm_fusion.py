"""LM shallow fusion for CTC prefix beam search (`ctc_beam_search_decode`)."""

from __future__ import annotations

import numpy as np

from keras_seq.decoding._prefix_cache import VOCABULARY_PREFIXES


class LMFusion:
    """LM shallow fusion over a table of LM states ("nodes") shared by all beams.

    A node is (context, unfinished word): the LM context trimmed to `order - 1`
    tokens (the LM cannot see further back) and, for word-level LMs, the
    characters typed since the last delimiter. Beams hold node ids, so the
    per-frame work is NumPy gathers: `bonus[node, c]` is the LM term added when
    class c is appended (a word's score when a delimiter completes it, a
    character's score for character-level LMs), `pending[node]` the
    ranking-only penalty of its unfinished word, `ranking[node, c]` the bonus
    plus the child's pending penalty (what candidates are ranked by; NaN at the
    delimiters until `score_words` asks the LM), and `trans[node, c]` the child
    node (-1 until first needed). LM calls are cached per (context, token).
    """

    def __init__(
        self, lm, lm_weight, word_bonus, alphabet, word_delimiter, blank, unknown_word_logp,
        classes,
    ):  # fmt: skip
        if alphabet is None:
            raise ValueError(
                "`alphabet` (a string per class id, the blank's entry ignored) is "
                "required with `lm`, to turn tokens into characters and words"
            )
        self.lm = lm
        self.level = getattr(lm, "level", "word")
        if self.level not in ("word", "char"):
            raise ValueError(f"`lm.level` must be 'word' or 'char', got {self.level!r}")
        self.order = getattr(lm, "order", None)
        self.alpha = float(lm_weight)
        self.beta = float(word_bonus)
        self.alphabet = list(alphabet)
        self.blank = blank
        self.classes = classes
        self.delimiter_ids = [
            i for i, s in enumerate(self.alphabet) if s == word_delimiter and i != blank
        ]
        self._delimiter_set = set(self.delimiter_ids)
        self.is_delimiter = np.zeros(classes, dtype=bool)
        self.is_delimiter[self.delimiter_ids] = True
        self.letters = [
            c for c in range(classes) if c != blank and not self.is_delimiter[c]
        ]
        self.cache = {}
        self.unknown = unknown_word_logp
        self.words = None
        if unknown_word_logp is not None and self.level == "word":
            vocabulary = getattr(lm, "vocabulary", None)
            if vocabulary is None:
                raise ValueError(
                    "`unknown_word_logp` needs an `lm` with a `vocabulary` attribute "
                    "(the known words)"
                )
            letters = tuple((c, self.alphabet[c]) for c in self.letters)
            self.words, self.prefixes, self._known_after = VOCABULARY_PREFIXES.get(
                vocabulary, letters
            )
        self._ids = {}
        self._nodes = []
        self._final = {}
        # Word scores are computed when a delimiter could follow (NaN until then).
        self.lazy = self.level == "word" and bool(self.delimiter_ids)
        self._delimiter = self.delimiter_ids
        if len(self.delimiter_ids) == 1:
            self._delimiter = self.delimiter_ids[0]  # scalar indexing is cheaper
        # Rows of `ranking` for new word-level nodes: the ranking-only penalty
        # of the unfinished word each letter would make (row 0: any letter
        # makes an unknown prefix; the set of word prefixes is closed).
        self._row_of = {}
        self._table = np.zeros((16, classes))
        if self.words is not None:
            self._table[0, self.letters] = self.unknown
        self._table_size = 1
        self.trans = np.full((256, classes), -1, dtype=np.int64)
        self.bonus = np.zeros((256, classes))
        self.ranking = np.zeros((256, classes))
        self.pending = np.zeros(256)
        self.root = self.node(self._trim(("<s>",)), "")

    def _trim(self, context):
        if self.order is None:
            return context
        return context[max(0, len(context) - self.order + 1) :]

    def _score(self, context, token):
        key = (context, token)
        value = self.cache.get(key)
        if value is None:
            value = float(self.lm(context, token))
            self.cache[key] = value
        return value

    def _word_score(self, context, word):
        value = self.alpha * self._score(context, word) + self.beta
        if self.words is not None and word not in self.words:
            value += self.unknown
        return value

    def _row(self, partial):
        """Row of `_table` with the letter penalties after `partial` (a known prefix)."""
        row = self._row_of.get(partial)
        if row is None:
            known = self._known_after.get(partial)
            if known is None:
                known = [
                    c
                    for c in self.letters
                    if partial + self.alphabet[c] in self.prefixes
                ]
                self._known_after[partial] = known
            row = self._row_of[partial] = self._table_size
            if row == len(self._table):
                self._table = np.concatenate([self._table, np.zeros_like(self._table)])
            self._table[row] = self._table[0]
            self._table[row, known] = 0.0
            self._table_size += 1
        return row

    def _grow(self):
        size = 4 * len(self.pending)
        for name, fill in (
            ("trans", -1),
            ("bonus", 0.0),
            ("ranking", 0.0),
            ("pending", 0.0),
        ):
            old = getattr(self, name)
            new = np.full((size,) + old.shape[1:], fill, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def node(self, context, partial):
        """Id of the node (trimmed context, unfinished word), created on first use."""
        key = (context, partial)
        index = self._ids.get(key)
        if index is not None:
            return index
        index = len(self._nodes)
        if index == len(self.pending):
            self._grow()
        self._ids[key] = index
        self._nodes.append(key)
        if self.level == "char":
            bonus = self.bonus[index]
            for c in range(self.classes):
                if c != self.blank:
                    bonus[c] = (
                        self.alpha * self._score(context, self.alphabet[c]) + self.beta
                    )
            self.ranking[index] = bonus
            return index
        if self.words is not None:
            if partial and partial not in self.prefixes:
                self.ranking[index] = self._table[0]
                self.pending[index] = self.unknown
            else:
                row = self._row(partial)  # may grow `_table`
                self.ranking[index] = self._table[row]
        if partial and self.lazy:
            self.ranking[index, self._delimiter] = np.nan
        return index

    def score_words(self, indices):
        """Fills in the word scores (bonus at a delimiter) of nodes `indices`."""
        for index in indices.tolist():
            context, partial = self._nodes[index]
            value = self._word_score(context, partial)
            self.bonus[index, self._delimiter] = value
            self.ranking[index, self._delimiter] = value

    def children(self, at_next):
        """Child nodes for flat indices `node * classes + token` of `trans`."""
        nodes, ids, alphabet, trim = self._nodes, self._ids, self.alphabet, self._trim
        char_level, delimiters = self.level == "char", self._delimiter_set
        targets = []
        for flat in at_next.tolist():
            index, token = divmod(flat, self.classes)
            context, partial = nodes[index]
            if char_level:
                key = (trim(context + (alphabet[token],)), "")
            elif token in delimiters:
                key = (trim(context + (partial,)) if partial else context, "")
            else:
                key = (context, partial + alphabet[token])
            target = ids.get(key)
            targets.append(self.node(*key) if target is None else target)
        targets = np.array(targets, dtype=np.int64)
        self.trans.reshape(-1)[at_next] = targets
        return targets

    def final_bonuses(self, nodes):
        return np.array([self.final_bonus(i) for i in nodes.tolist()])

    def final_bonus(self, index):
        """LM terms added at the end of the row: the unfinished word and `</s>`."""
        value = self._final.get(index)
        if value is None:
            context, partial = self._nodes[index]
            value = 0.0
            if self.level == "word" and partial:
                value += self._word_score(context, partial)
                context = self._trim(context + (partial,))
            value += self.alpha * self._score(context, "</s>")
            self._final[index] = value
        return value
