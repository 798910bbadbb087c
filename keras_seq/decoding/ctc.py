"""CTC decoding: greedy (best path) and prefix beam search with LM shallow fusion.

Both decoders run in NumPy on the host (decoding ops have no XLA kernel on
TensorFlow, so they stay out of compiled steps anyway) and accept logits or
log-probabilities `[B, T, V]` as NumPy arrays or tensors: a log-softmax over the
last axis is applied first (it leaves log-probabilities unchanged). All scores
are natural logarithms.

The prefix beam search itself is `ctc_prefix_search.PrefixBeamSearch`, the LM
shallow fusion `ctc_lm_fusion.LMFusion`; this module checks the arguments.
"""

from __future__ import annotations

import numpy as np

from keras_seq.decoding.ctc_lm_fusion import LMFusion
from keras_seq.decoding.ctc_prefix_search import PrefixBeamSearch


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

from keras_seq.decoding.ctc_lm_fusion import LMFusion
from keras_seq.decoding.ctc_prefix_search import PrefixBeamSearch
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
        fusion = LMFusion(
            lm, lm_weight, word_bonus, alphabet, word_delimiter, blank, unknown_word_logp,
            classes,
        )  # fmt: skip
    search = PrefixBeamSearch(logits, lengths, blank, beam_width, token_min_logp, beam_prune_logp, fusion)
    return search.run(top_paths)
