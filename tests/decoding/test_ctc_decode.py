import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoding import NGramLM, ctc_beam_search_decode, ctc_greedy_decode


def log_softmax64(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def collapse(frames, blank, merge_repeated=True):
    out, previous = [], None
    for frame in frames:
        if frame != blank and not (merge_repeated and frame == previous):
            out.append(int(frame))
        previous = frame
    return tuple(out)


def exhaustive(log_probs, blank):
    """log p(labelling) = logsumexp over every alignment that collapses to it."""
    time, classes = log_probs.shape
    totals = {}
    for alignment in itertools.product(range(classes), repeat=time):
        score = log_probs[np.arange(time), alignment].sum()
        key = collapse(alignment, blank)
        totals[key] = np.logaddexp(totals.get(key, -np.inf), score)
    return totals


def ranked(totals, n):
    return sorted(totals.items(), key=lambda kv: -kv[1])[:n]


@pytest.mark.parametrize("merge_repeated", [True, False])
def test_greedy_is_the_collapse_rule(rng, merge_repeated):
    logits = rng.normal(size=(5, 12, 4))
    lengths = np.array([12, 7, 1, 0, 9])
    for blank in (0, 3):
        paths, scores = ctc_greedy_decode(logits, lengths, blank_index=blank, merge_repeated=merge_repeated)
        log_probs = log_softmax64(logits)
        for b in range(5):
            frames = logits[b, : lengths[b]].argmax(-1)
            assert tuple(paths[b].tolist()) == collapse(frames, blank, merge_repeated)
            np.testing.assert_allclose(scores[b], log_probs[b, : lengths[b]].max(-1).sum())


def test_greedy_matches_tf(rng):
    log_probs = log_softmax64(rng.normal(size=(4, 10, 5)))
    lengths = np.array([10, 6, 3, 8])
    decoded, neg_sum = tf.nn.ctc_greedy_decoder(
        np.transpose(log_probs, (1, 0, 2)).astype("float32"), lengths, merge_repeated=True
    )
    dense = tf.sparse.to_dense(decoded[0], default_value=-1).numpy()
    paths, scores = ctc_greedy_decode(log_probs, lengths, blank_index=-1)
    for b in range(4):
        assert paths[b].tolist() == [x for x in dense[b] if x >= 0]
    np.testing.assert_allclose(scores, -neg_sum.numpy()[:, 0], rtol=1e-5)


@pytest.mark.parametrize("blank", [0, 1, 2])
def test_large_beam_equals_exhaustive_enumeration(rng, blank):
    logits = rng.normal(size=(3, 5, 3)) * 1.5
    lengths = np.array([5, 4, 2])
    paths, scores = ctc_beam_search_decode(
        logits, lengths, blank_index=blank, beam_width=64, top_paths=3
    )
    log_probs = log_softmax64(logits)
    for b in range(3):
        best = ranked(exhaustive(log_probs[b, : lengths[b]], blank), 3)
        np.testing.assert_allclose(scores[b], [s for _, s in best], rtol=1e-10)
        assert [tuple(p.tolist()) for p in paths[b]] == [labels for labels, _ in best]


def extend_prefixes(beams, y, blank, token_min_logp=None):
    """One frame of the textbook recursion: {prefix: (p_b, p_nb)} of every candidate."""
    new = {}

    def add(prefix, p_b, p_nb):
        old_b, old_nb = new.get(prefix, (-np.inf, -np.inf))
        new[prefix] = (np.logaddexp(old_b, p_b), np.logaddexp(old_nb, p_nb))

    for prefix, (p_b, p_nb) in beams.items():
        total = np.logaddexp(p_b, p_nb)
        add(prefix, total + y[blank], -np.inf)
        if prefix:
            add(prefix, -np.inf, p_nb + y[prefix[-1]])
        for c in range(len(y)):
            if c != blank and (token_min_logp is None or y[c] >= token_min_logp):
                previous = p_b if prefix and c == prefix[-1] else total
                add(prefix + (c,), -np.inf, previous + y[c])
    return new


def textbook_prefix_beam_search(log_probs, blank, beam_width):
    """Dict-based prefix beam search (Hannun et al. 2014): keep the top prefixes."""
    beams = {(): (0.0, -np.inf)}
    for y in log_probs:
        new = extend_prefixes(beams, y, blank)
        ranked_beams = sorted(new.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked_beams[:beam_width])
    return [(prefix, np.logaddexp(*p)) for prefix, p in beams.items()]


def test_small_beam_equals_textbook_prefix_beam_search(rng):
    logits = rng.normal(size=(20, 10, 4)) * 2
    lengths = rng.integers(1, 11, size=20)
    paths, scores = ctc_beam_search_decode(logits, lengths, blank_index=3, beam_width=3, top_paths=3)
    log_probs = log_softmax64(logits)
    for b in range(20):
        expected = textbook_prefix_beam_search(log_probs[b, : lengths[b]], 3, 3)
        got = [(tuple(p.tolist()), s) for p, s in zip(paths[b], scores[b]) if np.isfinite(s)]
        assert [p for p, _ in got] == [p for p, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-10)


def test_top_paths_match_tf_beam_search_where_exact(rng):
    logits = rng.normal(size=(6, 6, 4)) * 2
    decoded, log_probability = tf.nn.ctc_beam_search_decoder(
        np.transpose(logits, (1, 0, 2)).astype("float32"),
        np.full(6, 6),
        beam_width=200,
        top_paths=2,
    )
    paths, scores = ctc_beam_search_decode(logits, blank_index=-1, beam_width=200, top_paths=2)
    for j in range(2):
        dense = tf.sparse.to_dense(decoded[j], default_value=-1).numpy()
        for b in range(6):
            assert paths[b][j].tolist() == [x for x in dense[b] if x >= 0]
    np.testing.assert_allclose(scores, log_probability.numpy(), rtol=1e-4)


def test_row_lengths_equal_truncated_rows(rng):
    logits = rng.normal(size=(3, 9, 5)) * 3
    lengths = np.array([9, 4, 6])
    paths, scores = ctc_beam_search_decode(logits, lengths, beam_width=8, top_paths=2)
    for b in range(3):
        alone, alone_scores = ctc_beam_search_decode(logits[b : b + 1, : lengths[b]], beam_width=8, top_paths=2)
        assert [p.tolist() for p in paths[b]] == [p.tolist() for p in alone[0]]
        np.testing.assert_allclose(scores[b], alone_scores[0])


ALPHABET = ["_", "a", "b", " "]


def lm_rescored(log_probs, lm, alpha, beta, level, unknown=None):
    """Exhaustive labelling scores plus the shallow-fusion terms, by brute force."""
    result = {}
    for labels, score in exhaustive(log_probs, 0).items():
        text = "".join(ALPHABET[i] for i in labels)
        context, tokens = ("<s>",), list(text) if level == "char" else text.split(" ")
        bonus = 0.0
        for token in tokens:
            if level == "word" and not token:
                continue
            bonus += alpha * lm(context, token) + beta
            if unknown is not None and token not in lm.vocabulary:
                bonus += unknown
            context = context + (token,)
        bonus += alpha * lm(context, "</s>")
        result[labels] = score + bonus
    return result


@pytest.mark.parametrize("level, unknown", [("word", None), ("word", -3.0), ("char", None)])
def test_lm_fusion_with_large_beam_equals_brute_force(rng, level, unknown):
    lm = NGramLM(order=2, level=level).fit(["ab", "ab ba", "b a", "aa b"])
    logits = rng.normal(size=(2, 5, 4)) * 1.5
    alpha, beta = 0.7, 0.3
    paths, scores = ctc_beam_search_decode(
        logits, beam_width=400, top_paths=3, lm=lm, lm_weight=alpha, word_bonus=beta,
        alphabet=ALPHABET, unknown_word_logp=unknown,
    )
    log_probs = log_softmax64(logits)
    for b in range(2):
        best = ranked(lm_rescored(log_probs[b], lm, alpha, beta, level, unknown), 3)
        np.testing.assert_allclose(scores[b], [s for _, s in best], rtol=1e-9)
        assert [tuple(p.tolist()) for p in paths[b]] == [labels for labels, _ in best]


def test_lm_changes_the_ranking():
    # Frames: a/b nearly tied, then a space, then b/a nearly tied: acoustics prefer "ba ab".
    probs = np.array(
        [
            [0.05, 0.45, 0.48, 0.02],
            [0.90, 0.03, 0.03, 0.04],
            [0.05, 0.02, 0.03, 0.90],
            [0.05, 0.48, 0.45, 0.02],
            [0.05, 0.02, 0.03, 0.90],
            [0.05, 0.45, 0.48, 0.02],
        ]
    )[None]
    plain, _ = ctc_beam_search_decode(np.log(probs), beam_width=16)
    text = "".join(ALPHABET[i] for i in plain[0][0])
    assert text == "b a b"
    lm = NGramLM(order=2).fit(["a b a", "a b a", "a b"])
    fused, _ = ctc_beam_search_decode(np.log(probs), beam_width=16, lm=lm, lm_weight=1.0, alphabet=ALPHABET)
    assert "".join(ALPHABET[i] for i in fused[0][0]) == "a b a"


def test_unknown_word_penalty_keeps_to_the_vocabulary():
    # Acoustics spell "ba" (not a word); the vocabulary has only "ab".
    probs = np.array([[0.05, 0.40, 0.53, 0.02], [0.05, 0.53, 0.40, 0.02]])[None]
    lm = NGramLM(order=2).fit(["ab"])
    free, _ = ctc_beam_search_decode(np.log(probs), beam_width=16, lm=lm, lm_weight=0.0, alphabet=ALPHABET)
    assert free[0][0].tolist() == [2, 1]
    kept, _ = ctc_beam_search_decode(
        np.log(probs), beam_width=16, lm=lm, lm_weight=0.0, alphabet=ALPHABET, unknown_word_logp=-5.0
    )
    assert kept[0][0].tolist() == [1, 2]


def test_token_pruning_only_drops_unlikely_tokens(rng):
    logits = rng.normal(size=(2, 20, 6)) * 3
    log_probs = log_softmax64(logits)
    paths, _ = ctc_beam_search_decode(logits, beam_width=4, token_min_logp=-2.0, beam_prune_logp=5.0)
    allowed = {b: set(np.nonzero((log_probs[b] >= -2.0).any(0))[0]) for b in range(2)}
    for b in range(2):
        assert set(paths[b][0].tolist()) <= allowed[b]


def test_errors(rng):
    logits = rng.normal(size=(1, 4, 3))
    with pytest.raises(ValueError, match="`logits` must have rank 3"):
        ctc_beam_search_decode(logits[0])
    with pytest.raises(ValueError, match="`top_paths` .* must not exceed `beam_width`"):
        ctc_beam_search_decode(logits, beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match="`beam_width` must be a positive integer"):
        ctc_beam_search_decode(logits, beam_width=0)
    with pytest.raises(ValueError, match="`logit_lengths` must lie in"):
        ctc_greedy_decode(logits, np.array([5]))
    with pytest.raises(ValueError, match="`blank_index` must lie in"):
        ctc_greedy_decode(logits, blank_index=3)
    with pytest.raises(ValueError, match="`alphabet` .* is required with `lm`"):
        ctc_beam_search_decode(logits, lm=NGramLM(2).fit(["a"]))
    with pytest.raises(ValueError, match="`alphabet` must have one string per class"):
        ctc_beam_search_decode(logits, alphabet=["_", "a"])


def test_empty_rows_and_fewer_prefixes_than_top_paths(rng):
    logits = rng.normal(size=(2, 1, 3))
    paths, scores = ctc_beam_search_decode(logits, np.array([0, 1]), beam_width=4, top_paths=4)
    assert paths[0][0].tolist() == [] and scores[0, 0] == 0.0
    assert np.all(np.isneginf(scores[0, 1:]))
    # One frame over {blank, 1, 2}: exactly three labellings, "" / "1" / "2".
    log_probs = log_softmax64(logits[1, 0])
    assert sorted(p.tolist() for p in paths[1][:3]) == [[], [1], [2]]
    np.testing.assert_allclose(np.sort(scores[1, :3]), np.sort(log_probs))
    assert np.isneginf(scores[1, 3]) and paths[1][3].tolist() == []


def reference_fused_search(
    log_probs, beam_width, lm=None, alpha=0.0, beta=0.0, unknown=None,
    token_min_logp=None, beam_prune_logp=None, alphabet=ALPHABET,
):  # fmt: skip
    """Dict-based prefix beam search that asks the LM afresh for every prefix.

    No caches and no shared LM states: the shallow-fusion terms of a prefix
    are recomputed from its text each time it is ranked. Blank is class 0.
    """
    level = None if lm is None else lm.level
    known = None
    if unknown is not None:
        known = {w[:i] for w in lm.vocabulary for i in range(1, len(w) + 1)}

    def fusion(prefix, final):
        if lm is None:
            return 0.0
        text = "".join(alphabet[i] for i in prefix)
        tokens = list(text) if level == "char" else text.split(" ")
        partial = "" if level == "char" else tokens.pop()
        context, total = ("<s>",), 0.0
        for token in tokens + ([partial] if final and partial else []):
            if token:
                total += alpha * lm(context, token) + beta
                if unknown is not None and token not in lm.vocabulary:
                    total += unknown
                context = context + (token,)
        if final:
            return total + alpha * lm(context, "</s>")
        if unknown is not None and partial and partial not in known:
            total += unknown  # ranking only
        return total

    beams = {(): (0.0, -np.inf)}
    for y in log_probs:
        new = extend_prefixes(beams, y, 0, token_min_logp)
        rank = {p: np.logaddexp(*v) + fusion(p, False) for p, v in new.items()}
        best = max(rank.values())
        kept = [
            p for p in sorted(rank, key=lambda p: -rank[p])
            if rank[p] > -np.inf and (beam_prune_logp is None or rank[p] >= best - beam_prune_logp)
        ]  # fmt: skip
        beams = {p: new[p] for p in kept[:beam_width]}
    final = {p: np.logaddexp(*v) + fusion(p, True) for p, v in beams.items()}
    return sorted(final.items(), key=lambda kv: -kv[1])


@pytest.mark.parametrize("level, unknown", [(None, None), ("word", None), ("word", -4.0), ("char", None)])
def test_small_beam_with_pruning_and_lm_equals_uncached_reference(rng, level, unknown):
    # The decoder shares LM states between prefixes, scores words lazily and
    # keeps all rows in one flat list; the reference recomputes everything.
    texts = ["ab", "ab ba", "b a", "aa b", "ba ba ab"]
    lm = None if level is None else NGramLM(order=3 if level == "word" else 4, level=level).fit(texts)
    for trial in range(12):
        logits = rng.normal(size=(6, 14, 4)) * (1 + trial % 3)
        lengths = rng.integers(1, 15, size=6)
        options = dict(
            beam_width=int(rng.integers(1, 6)),
            token_min_logp=[None, -2.5][trial % 2],
            beam_prune_logp=[None, 3.0, 1.0][trial % 3],
        )
        alpha, beta = float(rng.uniform(0.2, 1.5)), float(rng.uniform(-1, 1))
        fused = {} if lm is None else dict(lm=lm, lm_weight=alpha, word_bonus=beta, alphabet=ALPHABET, unknown_word_logp=unknown)
        paths, scores = ctc_beam_search_decode(logits, lengths, top_paths=options["beam_width"], **options, **fused)
        log_probs = log_softmax64(logits)
        for b in range(6):
            expected = reference_fused_search(
                log_probs[b, : lengths[b]], options["beam_width"], lm, alpha, beta, unknown,
                options["token_min_logp"], options["beam_prune_logp"],
            )  # fmt: skip
            got = [(tuple(p.tolist()), s) for p, s in zip(paths[b], scores[b]) if np.isfinite(s)]
            assert [p for p, _ in got] == [p for p, _ in expected], (trial, b)
            np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-9)


def test_pruned_prefixes_do_not_come_back(rng):
    # Without an LM the last frame's ranking is the final score, so every
    # returned path lies within beam_prune_logp of the best one.
    logits = rng.normal(size=(16, 12, 5)) * 3
    _, scores = ctc_beam_search_decode(logits, beam_width=6, top_paths=6, beam_prune_logp=2.0)
    finite = np.isfinite(scores)
    assert finite[:, 0].all() and (~finite).any()
    assert np.all(scores[finite] >= np.repeat(scores[:, :1], 6, axis=1)[finite] - 2.0 - 1e-12)


def test_lm_fusion_on_longer_rows_equals_uncached_reference(rng):
    # Long enough that the decoder's LM tables grow past their first size.
    alphabet = ["_"] + list("abcdef") + [" "]
    words = ["ab", "cafe", "bad", "dead", "fed", "face", "bead", "dab"]
    lm = NGramLM(order=3).fit([" ".join(rng.choice(words, size=rng.integers(1, 5))) for _ in range(60)])
    logits = rng.normal(size=(6, 40, len(alphabet))) * 2.5
    options = dict(token_min_logp=-4.0, beam_prune_logp=8.0)
    paths, scores = ctc_beam_search_decode(
        logits, beam_width=6, top_paths=3, lm=lm, lm_weight=0.8, word_bonus=0.5,
        alphabet=alphabet, unknown_word_logp=-4.0, **options,
    )  # fmt: skip
    log_probs = log_softmax64(logits)
    for b in range(6):
        expected = reference_fused_search(
            log_probs[b], 6, lm, 0.8, 0.5, -4.0, alphabet=alphabet, **options
        )[:3]
        got = [(tuple(p.tolist()), s) for p, s in zip(paths[b], scores[b]) if np.isfinite(s)]
        assert [p for p, _ in got] == [p for p, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-9)
