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
_DEAD = np.uint64(1) << np.uint64(63)


def _as_log_probs(logits):
    if hasattr(logits, "numpy") or not isinstance(logits, np.ndarray):
        import keras

        logits = keras.ops.convert_to_numpy(logits)
    logits = np.asarray(logits, dtype="float64")
    if logits.ndim != 3:
        raise ValueError(
            f"`logits` must have rank 3 [batch, time, classes], got shape {logits.shape}"
        )
    if logits.shape[-1] < 2:
        raise ValueError(
            f"`logits` needs at least 2 classes (a blank and a label), got {logits.shape[-1]}"
        )
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
    """Turns an LM into per-slot bonuses for each possible next token."""

    def __init__(
        self, lm, lm_weight, word_bonus, alphabet, word_delimiter, blank, unknown_word_logp
    ):
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
        self.delimiter = word_delimiter
        self.blank = blank
        self.delimiter_ids = [
            i for i, s in enumerate(self.alphabet) if s == word_delimiter and i != blank
        ]
        self.cache = {}
        self.bonus_cache = {}
        self.unknown = unknown_word_logp
        self.words = None
        if unknown_word_logp is not None and self.level == "word":
            vocabulary = getattr(lm, "vocabulary", None)
            if vocabulary is None:
                raise ValueError(
                    "`unknown_word_logp` needs an `lm` with a `vocabulary` attribute "
                    "(the known words)"
                )
            self.words = set(vocabulary)
            self.prefixes = {w[:i] for w in self.words for i in range(1, len(w) + 1)}

    def _score(self, context, token):
        if self.order is not None:
            context = context[max(0, len(context) - self.order + 1) :]
        key = (context, token)
        value = self.cache.get(key)
        if value is None:
            value = float(self.lm(context, token))
            self.cache[key] = value
        return value

    def initial_state(self):
        return (("<s>",), "")

    def extend(self, state, token):
        context, partial = state
        if self.level == "char":
            return (context + (self.alphabet[token],), "")
        if token in self.delimiter_ids:
            return ((context + (partial,)) if partial else context, "")
        return (context, partial + self.alphabet[token])

    def _word_score(self, context, word):
        value = self.alpha * self._score(context, word) + self.beta
        if self.words is not None and word not in self.words:
            value += self.unknown
        return value

    def pending(self, state):
        """Ranking-only penalty of a partial word that starts no known word."""
        partial = state[1]
        if self.words is None or not partial or partial in self.prefixes:
            return 0.0
        return self.unknown

    def next_bonus(self, state, classes):
        """Scores committed, and pending penalties, when each class is appended."""
        context, partial = state
        if self.order is not None:
            context = context[max(0, len(context) - self.order + 1) :]
        key = (context, partial)
        cached = self.bonus_cache.get(key)
        if cached is not None:
            return cached
        bonus = np.zeros(classes)
        pending = np.zeros(classes)
        if self.level == "char":
            for c in range(classes):
                if c != self.blank:
                    char = self.alphabet[c]
                    bonus[c] = self.alpha * self._score(context, char) + self.beta
        else:
            if partial:
                bonus[self.delimiter_ids] = self._word_score(context, partial)
            if self.words is not None:
                for c in range(classes):
                    if c != self.blank and c not in self.delimiter_ids:
                        pending[c] = self.pending((context, partial + self.alphabet[c]))
        self.bonus_cache[key] = (bonus, pending)
        return bonus, pending

    def final_bonus(self, state):
        context, partial = state
        total = 0.0
        if self.level == "word" and partial:
            total += self._word_score(context, partial)
            context = context + (partial,)
        return total + self.alpha * self._score(context, "</s>")


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
    The `beam_width` prefixes with the best score survive; all B rows and all
    candidate extensions are scored at once in NumPy. With a large enough
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
    log_probs = _as_log_probs(logits)
    batch, time, classes = log_probs.shape
    lengths = _lengths(logit_lengths, batch, time)
    blank = _blank(blank_index, classes)
    for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
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
            lm, lm_weight, word_bonus, alphabet, word_delimiter, blank, unknown_word_logp
        )

    # Frames past a row's length: the blank with probability 1 (prefixes keep
    # their total, nothing is appended).
    frozen = np.arange(time)[None, :] >= lengths[:, None]
    log_probs = log_probs.copy()
    log_probs[frozen] = _NEG_INF
    log_probs[frozen, blank] = 0.0
    if token_min_logp is not None:
        pruned = log_probs < token_min_logp
        pruned[..., blank] = False
        log_probs_ext = np.where(pruned, _NEG_INF, log_probs)
    else:
        log_probs_ext = log_probs

    k = int(beam_width)
    rows = np.arange(batch)[:, None]
    slot_ids = np.arange(k, dtype=np.uint64)[None, :]
    dead_hash = _DEAD + np.arange(batch, dtype=np.uint64)[:, None] * np.uint64(2 * k) + slot_ids
    dead_parent = dead_hash + np.uint64(k)
    p_b = np.full((batch, k), _NEG_INF)
    p_b[:, 0] = 0.0
    p_nb = np.full((batch, k), _NEG_INF)
    last = np.full((batch, k), -1, dtype="int64")
    prefix_hash = dead_hash.copy()
    prefix_hash[:, 0] = 0
    parent_hash = dead_parent.copy()
    lm_total = np.zeros((batch, k))
    pending = np.zeros((batch, k))
    if fusion is not None:
        state = [[fusion.initial_state()] * k for _ in range(batch)]
        first, first_pending = fusion.next_bonus(fusion.initial_state(), classes)
        lm_next = np.broadcast_to(first, (batch, k, classes)).copy()
        pending_next = np.broadcast_to(first_pending, (batch, k, classes)).copy()
    back_src = np.zeros((time, batch, k), dtype="int32")
    back_tok = np.full((time, batch, k), -1, dtype="int32")

    non_blank = np.array([c for c in range(classes) if c != blank])
    pruning = token_min_logp is not None
    for t in range(time):
        y = log_probs[:, t]
        y_ext = log_probs_ext[:, t].copy()
        y_ext[:, blank] = _NEG_INF
        total = np.logaddexp(p_b, p_nb)
        stay_b = total + y[:, blank][:, None]
        y_last = np.take_along_axis(y, np.maximum(last, 0), axis=1)
        stay_nb = np.where(last >= 0, p_nb + y_last, _NEG_INF)
        # An extension that equals a prefix already in the beam is merged into it.
        match = prefix_hash[:, :, None] == parent_hash[:, None, :]
        has_parent = match.any(axis=1)
        merged = None
        if has_parent.any():
            b_idx, child = np.nonzero(has_parent)
            parent = match.argmax(axis=1)[b_idx, child]
            token = last[b_idx, child]
            previous = np.where(
                token == last[b_idx, parent], p_b[b_idx, parent], total[b_idx, parent]
            )
            stay_nb[b_idx, child] = np.logaddexp(
                stay_nb[b_idx, child], previous + y_ext[b_idx, token]
            )
            merged = np.zeros((batch, k, classes), dtype=bool)
            merged[b_idx, parent, token] = True
        # Classes each row may append. Without an LM, an extension by a class
        # outside the row's top k cannot be among the k best candidates (the k
        # better extensions of the same prefix beat it), so only those compete.
        if pruning:
            width = max(1, int(np.isfinite(y_ext).sum(axis=1).max()))
        else:
            width = len(non_blank)
        if fusion is None:
            width = min(width, k)
        if width < len(non_blank):
            tokens = np.argpartition(-y_ext, width - 1, axis=1)[:, :width]
        else:
            tokens = np.broadcast_to(non_blank, (batch, width))
        y_tok = np.take_along_axis(y_ext, tokens, axis=1)
        repeat = last[:, :, None] == tokens[:, None, :]
        ext = np.where(repeat, p_b[:, :, None], total[:, :, None]) + y_tok[:, None, :]
        if merged is not None:
            ext[np.take_along_axis(merged, tokens[:, None, :], axis=2)] = _NEG_INF
        stay_score = np.logaddexp(stay_b, stay_nb) + lm_total + pending
        ext_score = ext + lm_total[:, :, None]
        if fusion is not None:
            ext_score = ext_score + np.take_along_axis(
                lm_next + pending_next, tokens[:, None, :], axis=2
            )
        candidates = np.concatenate([stay_score, ext_score.reshape(batch, k * width)], 1)
        if beam_prune_logp is not None:
            best = candidates.max(axis=1, keepdims=True)
            candidates = np.where(candidates < best - beam_prune_logp, _NEG_INF, candidates)
        chosen = np.argpartition(-candidates, k - 1, axis=1)[:, :k]
        is_stay = chosen < k
        flat = np.maximum(chosen - k, 0)
        src = np.where(is_stay, chosen, flat // width)
        column = flat % width
        tok = np.where(is_stay, -1, tokens[rows, column])
        score = np.take_along_axis(candidates, chosen, axis=1)
        tok_safe = np.maximum(tok, 0)
        new_pb = np.where(is_stay, stay_b[rows, src], _NEG_INF)
        new_pnb = np.where(is_stay, stay_nb[rows, src], ext[rows, src, column])
        src_hash = prefix_hash[rows, src]
        new_hash = np.where(
            is_stay, src_hash, src_hash * _HASH_MULT + tok_safe.astype(np.uint64) + np.uint64(1)
        )
        new_parent = np.where(is_stay, parent_hash[rows, src], src_hash)
        new_last = np.where(is_stay, last[rows, src], tok)
        if fusion is not None:
            new_lm = lm_total[rows, src] + np.where(
                is_stay, 0.0, lm_next[rows, src, tok_safe]
            )
            pending = np.where(
                is_stay, pending[rows, src], pending_next[rows, src, tok_safe]
            )
            new_next = lm_next[rows, src]
            new_pending_next = pending_next[rows, src]
            new_state = [[state[b][s] for s in src[b]] for b in range(batch)]
            for b, j in zip(*np.nonzero(~is_stay & np.isfinite(score))):
                new_state[b][j] = fusion.extend(new_state[b][j], int(tok[b, j]))
                new_next[b, j], new_pending_next[b, j] = fusion.next_bonus(
                    new_state[b][j], classes
                )
            lm_total, lm_next, state = new_lm, new_next, new_state
            pending_next = new_pending_next
        alive = np.isfinite(score)
        p_b, p_nb, last = new_pb, new_pnb, np.where(alive, new_last, -1)
        prefix_hash = np.where(alive, new_hash, dead_hash)
        parent_hash = np.where(alive, new_parent, dead_parent)
        back_src[t], back_tok[t] = src, np.where(alive, tok, -1)

    final = np.logaddexp(p_b, p_nb)
    if fusion is not None:
        final = final + lm_total
        for b in range(batch):
            for j in range(k):
                if np.isfinite(final[b, j]):
                    final[b, j] += fusion.final_bonus(state[b][j])
    order = np.argsort(-final, axis=1, kind="stable")[:, :top_paths]
    scores = np.take_along_axis(final, order, axis=1)
    tokens = np.full((time, batch, top_paths), -1, dtype="int64")
    slot = order.copy()
    for t in range(time - 1, -1, -1):
        tokens[t] = back_tok[t][rows, slot]
        slot = back_src[t][rows, slot]
    paths = []
    for b in range(batch):
        row = []
        for j in range(top_paths):
            seq = tokens[:, b, j]
            row.append(seq[seq >= 0].astype("int32") if np.isfinite(scores[b, j]) else np.zeros(0, "int32"))
        paths.append(row)
    return paths, scores
