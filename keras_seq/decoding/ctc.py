"""CTC decoding: greedy (best path) and prefix beam search with LM shallow fusion.

Both decoders run in NumPy on the host (decoding ops have no XLA kernel on
TensorFlow, so they stay out of compiled steps anyway) and accept logits or
log-probabilities `[B, T, V]` as NumPy arrays or tensors: a log-softmax over the
last axis is applied first (it leaves log-probabilities unchanged). All scores
are natural logarithms.
"""

from __future__ import annotations

import numpy as np

_NEG_INF = -np.inf
_HASH_MULT = np.uint64(1_000_003)
_HASH_INVERSE = np.uint64(16109806864799210091)  # of _HASH_MULT, modulo 2**64
_ROW_SEED = np.uint64(0x9E3779B97F4A7C15)
_LOWEST = np.finfo(np.float64).min


def _logits_array(logits):
    if hasattr(logits, "numpy") or not isinstance(logits, np.ndarray):
        import keras

        logits = keras.ops.convert_to_numpy(logits)
    logits = np.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype("float64")
    if logits.ndim != 3:
        raise ValueError(
            f"`logits` must have rank 3 [batch, time, classes], got shape {logits.shape}"
        )
    if logits.shape[-1] < 2:
        raise ValueError(
            f"`logits` needs at least 2 classes (a blank and a label), got {logits.shape[-1]}"
        )
    return logits


def _as_log_probs(logits):
    logits = np.asarray(_logits_array(logits), dtype="float64")
    top = logits.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    shifted = logits - top
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _lengths(logit_lengths, batch, time):
    if logit_lengths is None:
        return np.full(batch, time, dtype="int64")
    if hasattr(logit_lengths, "numpy"):
        logit_lengths = logit_lengths.numpy()
    lengths = np.asarray(logit_lengths).reshape(-1)
    if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(
            f"`logit_lengths` must be {batch} integers (one per batch row), "
            f"got {logit_lengths!r}"
        )
    if (lengths < 0).any() or (lengths > time).any():
        raise ValueError(
            f"`logit_lengths` must lie in [0, {time}] (the time axis), got {lengths.tolist()}"
        )
    return lengths.astype("int64")


def _blank(blank_index, classes):
    if isinstance(blank_index, bool) or not isinstance(blank_index, (int, np.integer)):
        raise ValueError(f"`blank_index` must be an integer, got {blank_index!r}")
    index = int(blank_index) + classes if blank_index < 0 else int(blank_index)
    if not 0 <= index < classes:
        raise ValueError(
            f"`blank_index` must lie in [-{classes}, {classes}), got {blank_index}"
        )
    return index


def ctc_greedy_decode(logits, logit_lengths=None, blank_index=0, merge_repeated=True):
    """Best-path CTC decoding: argmax per frame, merge repeats, drop blanks.

    Args:
        logits: `[B, T, V]` logits or log-probabilities.
        logit_lengths: optional int `[B]`, valid frames per row (default all).
        blank_index: int, the blank class (negative counts from the end).
            Defaults to `0`.
        merge_repeated: bool; when False, repeated labels are kept
            ("aa_b" -> "aab"). Defaults to `True`.

    Returns:
        `(paths, scores)`: a list of `B` int arrays, and float `[B]` with the
        log-probability of each best alignment (sum of the per-frame maxima).

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import ctc_greedy_decode
    >>> frames = np.array([[1, 1, 0, 1, 2, 2, 0]])  # "aa_abb_" with blank 0
    >>> logits = np.log(np.eye(3)[frames] * 0.9 + 0.05)
    >>> paths, scores = ctc_greedy_decode(logits)
    >>> paths[0].tolist()
    [1, 1, 2]
    """
    log_probs = _as_log_probs(logits)
    batch, time, classes = log_probs.shape
    lengths = _lengths(logit_lengths, batch, time)
    blank = _blank(blank_index, classes)
    best = log_probs.argmax(axis=-1)
    best_scores = log_probs.max(axis=-1)
    valid = np.arange(time)[None, :] < lengths[:, None]
    keep = valid & (best != blank)
    if merge_repeated:
        previous = np.concatenate([np.full((batch, 1), -1), best[:, :-1]], axis=1)
        keep &= best != previous
    paths = [best[b][keep[b]].astype("int32") for b in range(batch)]
    scores = np.where(valid, best_scores, 0.0).sum(axis=1)
    return paths, scores


class _LMFusion:
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
            self.words, self.prefixes, self._known_after = _vocabulary_prefixes(
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


_VOCABULARIES = {}  # tuple of words -> (words, prefixes, {letters: known letters after})


def _vocabulary_prefixes(vocabulary, letters):
    """(words, every non-empty word prefix, a memo of the letters that may follow).

    Derived from the vocabulary once and reused by later calls (like a
    decoder's prefix trie); the memo is per tuple of `(class, text)` letters.
    """
    key = tuple(vocabulary)
    cached = _VOCABULARIES.get(key)
    if cached is None:
        words = set(key)
        prefixes = {w[:i] for w in words for i in range(1, len(w) + 1)}
        cached = _VOCABULARIES[key] = (words, prefixes, {})
        while len(_VOCABULARIES) > 4:
            del _VOCABULARIES[next(iter(_VOCABULARIES))]
    words, prefixes, memos = cached
    return words, prefixes, memos.setdefault(letters, {})


def ctc_beam_search_decode(
    logits,
    logit_lengths=None,
    blank_index=0,
    beam_width=100,
    top_paths=1,
    lm=None,
    lm_weight=0.5,
    word_bonus=0.0,
    alphabet=None,
    word_delimiter=" ",
    token_min_logp=None,
    beam_prune_logp=None,
    unknown_word_logp=None,
):
    """CTC prefix beam search, batched and vectorised, with LM shallow fusion.

    Keeps, for every prefix (a collapsed labelling) in the beam, the
    probability of all alignments of the frames so far that collapse to it,
    split into those ending in a blank, p_b, and in a label, p_nb (Graves
    2012; Hannun et al. 2014). Per frame with log-probabilities y:
    staying keeps the prefix, p_b' = (p_b + p_nb) y_blank and
    p_nb' = p_nb y_last; appending c gives p_nb'(prefix + c) = y_c (p_b + p_nb),
    or y_c p_b when c repeats the last label (a repeat needs a blank between).
    Extensions that reach a prefix already in the beam are merged into it.
    The `beam_width` prefixes with the best score survive (after
    `beam_prune_logp`; a pruned prefix is gone for good). The live prefixes of
    all B rows sit in one flat list, so each frame is a few NumPy operations
    on arrays as long as the number of live candidates. With a large enough
    beam (and no pruning) the result is exact: the labelling probabilities
    are sums over all alignments. With a small beam it keeps exactly the
    textbook top-`beam_width` prefixes per frame (TensorFlow's decoder prunes
    differently, so at equal small beams the two can return different paths).

    Shallow fusion: a prefix's score is log(p_b + p_nb) + `lm_weight` * LM
    log-probability + `word_bonus` * number of LM tokens. `lm(context, token)`
    returns the natural-log probability of `token` after the tuple `context`.
    With `lm.level == "word"` (the default for any callable) a word is scored
    when a `word_delimiter` follows it and at the end of the row, context =
    `("<s>",)` followed by the previous words; with `lm.level == "char"` every appended character is
    scored. At the end of the row `lm(context, "</s>")` is added as well.
    `lm.order`, if present, trims contexts to `order - 1` tokens (for caching).
    `keras_seq.decoding.NGramLM` and `KenLMAdapter` fit this protocol.
    Prefixes share LM states (trimmed context, unfinished word), so the LM is
    asked once per (context, word) per call, and only for words that a
    delimiter could follow at some frame (or that end a row).

    Args:
        logits: `[B, T, V]` logits or log-probabilities.
        logit_lengths: optional int `[B]`, valid frames per row.
        blank_index: int, the blank class. Defaults to `0`.
        beam_width: int, prefixes kept per frame. Defaults to `100`.
        top_paths: int <= `beam_width`, paths returned per row. Defaults to `1`.
        lm: optional language model callable, see above.
        lm_weight: float alpha. Defaults to `0.5`.
        word_bonus: float beta, added per scored word (or character).
            Defaults to `0.0`.
        alphabet: sequence of `V` strings, the text of each class (needed
            with `lm`).
        word_delimiter: string of the class that ends a word. Defaults to " ".
        token_min_logp: optional float; a class whose frame log-probability is
            below it is not appended at that frame (pruning; None = exact).
        beam_prune_logp: optional float; candidates scoring more than this
            below the frame's best are dropped (None = keep `beam_width`).
        unknown_word_logp: optional float (e.g. `-10.0`), word-level LMs with
            a `vocabulary` only: added to a word outside the vocabulary when it
            is scored, and, for ranking only, to a prefix whose unfinished
            word starts no known word (a vocabulary constraint like
            pyctcdecode's `unk_score_offset`). None = off.

    Returns:
        `(paths, scores)`: `paths[b]` is a list of `top_paths` int arrays,
        best first; `scores` is float `[B, top_paths]` (`-inf` where a row
        has fewer distinct prefixes than `top_paths`).

    Example:
    >>> import numpy as np
    >>> from keras_seq.decoding import ctc_beam_search_decode
    >>> # Best path is blank-blank (""), but "a" has 0.3*0.3 + 2*0.3*0.4 = 0.33.
    >>> probs = np.array([[[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]]])
    >>> paths, scores = ctc_beam_search_decode(np.log(probs), beam_width=8, top_paths=2)
    >>> [p.tolist() for p in paths[0]], np.round(np.exp(scores), 2).tolist()
    ([[1], [2]], [[0.33, 0.33]])
    """
    logits = _logits_array(logits)
    batch, time, classes = logits.shape
    lengths = _lengths(logit_lengths, batch, time)
    blank = _blank(blank_index, classes)
    for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    if top_paths > beam_width:
        raise ValueError(
            f"`top_paths` ({top_paths}) must not exceed `beam_width` ({beam_width})"
        )
    if alphabet is not None and len(alphabet) != classes:
        raise ValueError(
            f"`alphabet` must have one string per class ({classes}), got {len(alphabet)}"
        )
    fusion = None
    if lm is not None:
        if not callable(lm):
            raise ValueError(f"`lm` must be callable as lm(context, token), got {lm!r}")
        fusion = _LMFusion(
            lm, lm_weight, word_bonus, alphabet, word_delimiter, blank, unknown_word_logp,
            classes,
        )  # fmt: skip

    # Time-major log-softmax (float64). Frames past a row's length: the blank
    # with probability 1 (prefixes keep their total, nothing is appended).
    # Column `classes` is an extra class of probability 0: the "last label" of
    # prefixes without one.
    padded = np.empty((time, batch, classes + 1))
    body = padded[..., :classes]
    body[...] = np.transpose(logits, (1, 0, 2))
    top = body.max(axis=2, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    body -= top
    with np.errstate(divide="ignore"):
        body -= np.log(np.exp(body).sum(axis=2, keepdims=True))
    padded[..., classes] = _NEG_INF
    frozen = np.arange(time)[:, None] >= lengths[None, :]  # [T, B]
    if frozen.any():
        padded[frozen] = _NEG_INF
        padded[frozen, blank] = 0.0
    # Classes each row may append at each frame (not the blank, not pruned):
    # the first `widths[t]` columns of `by_score`, padded with the blank at
    # probability 0. Without an LM, an extension by a class outside the row's
    # top k cannot be among the k best candidates (the k better extensions of
    # the same prefix beat it), so only those compete.
    possible = body > _NEG_INF if token_min_logp is None else body >= token_min_logp
    possible[..., blank] = False
    counts = possible.sum(axis=2)  # [T, B]
    widths = counts.max(axis=1)
    width_max = max(1, int(widths.max(initial=0)))
    if fusion is None and (widths > beam_width).any():
        widths = np.minimum(widths, beam_width)
        width_max = min(width_max, beam_width)
        by_score = np.argsort(np.where(possible, -body, np.inf), axis=2)[
            ..., :width_max
        ]
    else:
        by_score = np.full((time * batch, width_max), blank)
        frame, label = possible.reshape(time * batch, classes).nonzero()
        first = np.cumsum(counts.reshape(-1)) - counts.reshape(-1)
        by_score[frame, np.arange(len(frame)) - first[frame]] = label
        by_score = by_score.reshape(time, batch, width_max)
    sorted_logp = np.take_along_axis(padded, by_score, axis=2)
    listed = np.arange(width_max) < np.minimum(counts, widths[:, None])[..., None]
    sorted_logp[~listed] = _NEG_INF
    column_of = np.full((time, batch, classes), -1)  # column of each class in by_score
    frame, entry, column = listed.nonzero()
    column_of[frame, entry, by_score[frame, entry, column]] = column
    if fusion is not None:
        delimiter_frame = possible[..., fusion.delimiter_ids].any(axis=(1, 2))

    # The live prefixes of all rows, in one flat list grouped by row. Each has
    # p_b, p_nb, its last label (`classes` = none) and a hash of its labels
    # (seeded per row, so prefixes of different rows never match).
    k = int(beam_width)
    stride = classes + 1
    blank_logp = padded[..., blank]  # [T, B]
    positions = np.arange(batch * k * (1 + by_score.shape[2]))
    row = np.arange(batch)
    p_b = np.zeros(batch)
    p_nb = np.full(batch, _NEG_INF)
    last = np.full(batch, classes, dtype=np.int64)
    prefix_hash = (row.astype(np.uint64) + np.uint64(1)) * _ROW_SEED
    if fusion is not None:
        lm_total = np.zeros(batch)
        node = np.full(batch, fusion.root, dtype=np.int64)
    back = []  # per frame: (source prefix, appended class or -1); None = unchanged
    for t in range(time):
        count = len(row)
        if count == 0:  # every row lost all its prefixes (zero probabilities)
            back.append(None)
            continue
        total = np.logaddexp(p_b, p_nb)
        stay_b = total + blank_logp[t].take(row)
        at_last = row * stride + last
        stay_nb = p_nb + padded[t].take(at_last)
        width = int(widths[t])
        if width == 0:
            # Nothing can be appended in any row: every prefix just stays.
            rank = np.logaddexp(stay_b, stay_nb)
            if fusion is not None:
                rank += lm_total + fusion.pending.take(node)
            keep = rank > _NEG_INF
            if beam_prune_logp is not None:
                keep &= rank >= _row_max(rank, row, batch) - beam_prune_logp
            if keep.all():
                p_b, p_nb = stay_b, stay_nb
                back.append(None)
                continue
            chosen = keep.nonzero()[0]
            p_b, p_nb = stay_b.take(chosen), stay_nb.take(chosen)
            row, last, prefix_hash = (
                row.take(chosen),
                last.take(chosen),
                prefix_hash.take(chosen),
            )
            if fusion is not None:
                node, lm_total = node.take(chosen), lm_total.take(chosen)
            back.append((chosen, np.full(len(chosen), -1)))
            continue
        # Candidates, prefix-major: each prefix stays, then is extended by each
        # class its row may append at this frame.
        tokens = by_score[t, :, :width].take(row, axis=0)  # [prefix, width]
        ext = np.where(last[:, None] == tokens, p_b[:, None], total[:, None])
        ext += sorted_logp[t, :, :width].take(row, axis=0)
        # A prefix whose parent (itself minus its last label c) is in the beam
        # also gets the parent's extension by c, which then is no candidate.
        by_hash = prefix_hash.argsort()
        sorted_hash = prefix_hash.take(by_hash)
        parent_hash = (prefix_hash - (last + 1).astype(np.uint64)) * _HASH_INVERSE
        found = np.minimum(sorted_hash.searchsorted(parent_hash), count - 1)
        children = (
            (sorted_hash.take(found) == parent_hash) & (last < classes)
        ).nonzero()[0]
        if len(children):
            parents = by_hash.take(found.take(children))
            label = last.take(children)
            previous = np.where(
                label == last.take(parents), p_b.take(parents), total.take(parents)
            )
            appended = padded[t].take(at_last.take(children))
            if token_min_logp is not None:
                appended[appended < token_min_logp] = _NEG_INF
            stay_nb[children] = np.logaddexp(
                stay_nb.take(children), previous + appended
            )
            column = column_of[t].take(row.take(children) * classes + label)
            listed = column >= 0
            ext[parents[listed], column[listed]] = _NEG_INF
        stay = np.logaddexp(stay_b, stay_nb)
        if fusion is not None:
            at_next = node[:, None] * classes + tokens
            bonus = fusion.ranking.take(at_next)
            if delimiter_frame[t]:
                unscored = np.isnan(bonus)
                if unscored.any():
                    needed = unscored & (ext > _NEG_INF)
                    if needed.any():
                        fusion.score_words(np.unique(at_next[needed] // classes))
                        bonus = fusion.ranking.take(at_next)
                    bonus[np.isnan(bonus)] = 0.0  # where the extension is impossible
            bonus += lm_total[:, None]
            bonus += ext
            stay += lm_total + fusion.pending.take(node)
            rank = np.concatenate([stay[:, None], bonus], axis=1).reshape(-1)
        else:
            rank = np.concatenate([stay[:, None], ext], axis=1).reshape(-1)
        # Per row: the candidates within `beam_prune_logp` of the row's best,
        # and of those the k best (rows stay grouped, in order).
        span = width + 1
        candidate_row = row.repeat(span)
        if beam_prune_logp is not None:
            keep = rank >= np.maximum(
                _row_max(rank, candidate_row, batch) - beam_prune_logp, _LOWEST
            )
        else:
            keep = rank > _NEG_INF
        chosen = keep.nonzero()[0]
        row = candidate_row.take(chosen)
        if len(chosen) > k:
            per_row = np.bincount(row, minlength=batch)
            if per_row.max() > k:
                start = np.cumsum(per_row) - per_row
                table = np.full((batch, per_row.max()), _NEG_INF)
                table[row, positions[: len(chosen)] - start.take(row)] = rank.take(
                    chosen
                )
                best = (-table).argpartition(k - 1, axis=1)[:, :k]
                best = (best + start[:, None])[best < per_row[:, None]]
                chosen, row = chosen.take(best), row.take(best)
        src = chosen // span
        slot = chosen - src * span
        is_stay = slot == 0
        tok = (
            np.concatenate([np.full((count, 1), -1), tokens], axis=1)
            .reshape(-1)
            .take(chosen)
        )
        p_b = np.where(is_stay, stay_b.take(src), _NEG_INF)
        p_nb = np.concatenate([stay_nb[:, None], ext], axis=1).reshape(-1).take(chosen)
        last = np.where(is_stay, last.take(src), tok)
        src_hash = prefix_hash.take(src)
        prefix_hash = np.where(
            is_stay, src_hash, src_hash * _HASH_MULT + (tok + 1).astype(np.uint64)
        )
        if fusion is not None:
            grown = ~is_stay
            at_chosen = at_next.reshape(-1).take(np.maximum(chosen - src - 1, 0))
            child = fusion.trans.take(at_chosen)
            missing = (grown & (child < 0)).nonzero()[0]
            if len(missing):
                child[missing] = fusion.children(at_chosen.take(missing))
            lm_total = lm_total.take(src) + np.where(
                grown, fusion.bonus.take(at_chosen), 0.0
            )
            node = np.where(grown, child, node.take(src))
        back.append((src, tok))

    final = np.logaddexp(p_b, p_nb)
    if fusion is not None:
        final += lm_total
        finite = np.isfinite(final)
        final[finite] += fusion.final_bonuses(node[finite])
    # Per row: the top paths, best first.
    order = np.lexsort((-final, row))
    grouped = row.take(order)
    place = np.arange(len(order)) - grouped.searchsorted(grouped)
    keep = place < top_paths
    beams, at_row, at_place = order[keep], grouped[keep], place[keep]
    scores = np.full((batch, top_paths), _NEG_INF)
    scores[at_row, at_place] = final.take(beams)
    labels = np.full((time, len(beams)), -1, dtype=np.int64)
    for t in range(time - 1, -1, -1):
        if back[t] is not None:
            src, tok = back[t]
            labels[t] = tok.take(beams)
            beams = src.take(beams)
    paths = [[np.zeros(0, "int32") for _ in range(top_paths)] for _ in range(batch)]
    for i, (b, j) in enumerate(zip(at_row.tolist(), at_place.tolist())):
        if np.isfinite(scores[b, j]):
            seq = labels[:, i]
            paths[b][j] = seq[seq >= 0].astype("int32")
    return paths, scores


def _row_max(values, row, batch):
    """For each entry of `values`, the maximum over the entries of its row."""
    best = np.full(batch, _NEG_INF)
    np.maximum.at(best, row, values)
    return best.take(row)
