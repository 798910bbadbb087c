"""CTC prefix beam search over a batch, vectorised in NumPy (one class, read
top to bottom: the per-frame tables, then one frame at a time, then the paths).
`ctc_beam_search_decode` (in `ctc.py`) validates the arguments and runs it."""

from __future__ import annotations

import numpy as np

_NEG_INF = -np.inf
_HASH_MULT = np.uint64(1_000_003)
_HASH_INVERSE = np.uint64(16109806864799210091)  # of _HASH_MULT, modulo 2**64
_ROW_SEED = np.uint64(0x9E3779B97F4A7C15)
_LOWEST = np.finfo(np.float64).min


def _row_max(values, row, batch):
    """For each entry of `values`, the maximum over the entries of its row."""
    best = np.full(batch, _NEG_INF)
    np.maximum.at(best, row, values)
    return best.take(row)


class PrefixBeamSearch:
    """The live prefixes of all rows, in one flat list grouped by row.

    Each prefix has p_b, p_nb (log-probabilities of its alignments ending in
    a blank / a label), its last label (`classes` = none) and a hash of its
    labels (seeded per row, so prefixes of different rows never match); with
    an LM, also its LM node and summed LM terms (`fusion`, an `LMFusion`).
    `back` records, per frame, each surviving prefix's source and appended
    class (-1: stayed), or None when nothing changed; the paths are read back
    from it at the end. See `ctc_beam_search_decode` for the algorithm.
    """

    def __init__(self, logits, lengths, blank, beam_width, token_min_logp=None, beam_prune_logp=None, fusion=None):
        self.batch, self.time, self.classes = logits.shape
        self.blank, self.k = blank, int(beam_width)
        self.token_min_logp, self.beam_prune_logp, self.fusion = token_min_logp, beam_prune_logp, fusion
        self._log_probs(logits, lengths)
        self._appendable()
        self.positions = np.arange(self.batch * self.k * (1 + self.by_score.shape[2]))
        self.row = np.arange(self.batch)
        self.p_b = np.zeros(self.batch)
        self.p_nb = np.full(self.batch, _NEG_INF)
        self.last = np.full(self.batch, self.classes, dtype=np.int64)
        self.prefix_hash = (self.row.astype(np.uint64) + np.uint64(1)) * _ROW_SEED
        if fusion is not None:
            self.lm_total = np.zeros(self.batch)
            self.node = np.full(self.batch, fusion.root, dtype=np.int64)
        self.back = []

    # -- per-frame tables ----------------------------------------------------

    def _log_probs(self, logits, lengths):
        """Time-major log-softmax (float64) `padded` `[T, B, V + 1]`. Frames
        past a row's length: the blank with probability 1 (prefixes keep their
        total, nothing is appended). Column `classes` is an extra class of
        probability 0: the "last label" of prefixes without one."""
        time, batch, classes = self.time, self.batch, self.classes
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
            padded[frozen, self.blank] = 0.0
        self.padded, self.body = padded, body
        self.blank_logp = padded[..., self.blank]  # [T, B]

    def _appendable(self):
        """Classes each row may append at each frame (not the blank, not
        pruned): the first `widths[t]` columns of `by_score`, padded with the
        blank at probability 0. Without an LM, an extension by a class outside
        the row's top k cannot be among the k best candidates (the k better
        extensions of the same prefix beat it), so only those compete."""
        time, batch, classes, body = self.time, self.batch, self.classes, self.body
        possible = body > _NEG_INF if self.token_min_logp is None else body >= self.token_min_logp
        possible[..., self.blank] = False
        counts = possible.sum(axis=2)  # [T, B]
        widths = counts.max(axis=1)
        width_max = max(1, int(widths.max(initial=0)))
        if self.fusion is None and (widths > self.k).any():
            widths = np.minimum(widths, self.k)
            width_max = min(width_max, self.k)
            by_score = np.argsort(np.where(possible, -body, np.inf), axis=2)[..., :width_max]
        else:
            by_score = np.full((time * batch, width_max), self.blank)
            frame, label = possible.reshape(time * batch, classes).nonzero()
            first = np.cumsum(counts.reshape(-1)) - counts.reshape(-1)
            by_score[frame, np.arange(len(frame)) - first[frame]] = label
            by_score = by_score.reshape(time, batch, width_max)
        sorted_logp = np.take_along_axis(self.padded, by_score, axis=2)
        listed = np.arange(width_max) < np.minimum(counts, widths[:, None])[..., None]
        sorted_logp[~listed] = _NEG_INF
        column_of = np.full((time, batch, classes), -1)  # column of each class in by_score
        frame, entry, column = listed.nonzero()
        column_of[frame, entry, by_score[frame, entry, column]] = column
        self.widths, self.by_score, self.sorted_logp, self.column_of = widths, by_score, sorted_logp, column_of
        if self.fusion is not None:
            self.delimiter_frame = possible[..., self.fusion.delimiter_ids].any(axis=(1, 2))

    # -- one frame -----------------------------------------------------------

    def run(self, top_paths):
        """Searches every frame; returns `(paths, scores)` as documented in
        `ctc_beam_search_decode`."""
        for t in range(self.time):
            self._frame(t)
        return self._paths(top_paths)

    def _frame(self, t):
        if len(self.row) == 0:  # every row lost all its prefixes (zero probabilities)
            self.back.append(None)
            return
        total = np.logaddexp(self.p_b, self.p_nb)
        stay_b = total + self.blank_logp[t].take(self.row)
        at_last = self.row * (self.classes + 1) + self.last
        stay_nb = self.p_nb + self.padded[t].take(at_last)
        width = int(self.widths[t])
        if width == 0:
            self._stay(stay_b, stay_nb)
            return
        # Candidates, prefix-major: each prefix stays, then is extended by each
        # class its row may append at this frame.
        tokens = self.by_score[t, :, :width].take(self.row, axis=0)  # [prefix, width]
        ext = np.where(self.last[:, None] == tokens, self.p_b[:, None], total[:, None])
        ext += self.sorted_logp[t, :, :width].take(self.row, axis=0)
        self._merge_into_children(t, total, at_last, stay_nb, ext)
        rank, at_next = self._ranks(t, np.logaddexp(stay_b, stay_nb), ext, tokens)
        chosen, row = self._select(rank, width)
        self._advance(chosen, row, width, tokens, stay_b, stay_nb, ext, at_next)

    def _stay(self, stay_b, stay_nb):
        """A frame where nothing can be appended in any row: every prefix
        stays (those pruned or of probability 0 are dropped)."""
        rank = np.logaddexp(stay_b, stay_nb)
        if self.fusion is not None:
            rank += self.lm_total + self.fusion.pending.take(self.node)
        keep = rank > _NEG_INF
        if self.beam_prune_logp is not None:
            keep &= rank >= _row_max(rank, self.row, self.batch) - self.beam_prune_logp
        if keep.all():
            self.p_b, self.p_nb = stay_b, stay_nb
            self.back.append(None)
            return
        chosen = keep.nonzero()[0]
        self.p_b, self.p_nb = stay_b.take(chosen), stay_nb.take(chosen)
        self.row, self.last = self.row.take(chosen), self.last.take(chosen)
        self.prefix_hash = self.prefix_hash.take(chosen)
        if self.fusion is not None:
            self.node, self.lm_total = self.node.take(chosen), self.lm_total.take(chosen)
        self.back.append((chosen, np.full(len(chosen), -1)))

    def _merge_into_children(self, t, total, at_last, stay_nb, ext):
        """A prefix whose parent (itself minus its last label c) is in the
        beam also gets the parent's extension by c, which then is no
        candidate. Updates `stay_nb` and `ext` in place."""
        prefix_hash, last, classes, count = self.prefix_hash, self.last, self.classes, len(self.row)
        by_hash = prefix_hash.argsort()
        sorted_hash = prefix_hash.take(by_hash)
        parent_hash = (prefix_hash - (last + 1).astype(np.uint64)) * _HASH_INVERSE
        found = np.minimum(sorted_hash.searchsorted(parent_hash), count - 1)
        children = ((sorted_hash.take(found) == parent_hash) & (last < classes)).nonzero()[0]
        if not len(children):
            return
        parents = by_hash.take(found.take(children))
        label = last.take(children)
        previous = np.where(label == last.take(parents), self.p_b.take(parents), total.take(parents))
        appended = self.padded[t].take(at_last.take(children))
        if self.token_min_logp is not None:
            appended[appended < self.token_min_logp] = _NEG_INF
        stay_nb[children] = np.logaddexp(stay_nb.take(children), previous + appended)
        column = self.column_of[t].take(self.row.take(children) * classes + label)
        listed = column >= 0
        ext[parents[listed], column[listed]] = _NEG_INF

    def _ranks(self, t, stay, ext, tokens):
        """Flat candidate scores (stay, then each extension, per prefix), with
        the LM terms when fusing; and the flat LM transition indices."""
        fusion = self.fusion
        if fusion is None:
            return np.concatenate([stay[:, None], ext], axis=1).reshape(-1), None
        classes = self.classes
        at_next = self.node[:, None] * classes + tokens
        bonus = fusion.ranking.take(at_next)
        if self.delimiter_frame[t]:
            unscored = np.isnan(bonus)
            if unscored.any():
                needed = unscored & (ext > _NEG_INF)
                if needed.any():
                    fusion.score_words(np.unique(at_next[needed] // classes))
                    bonus = fusion.ranking.take(at_next)
                bonus[np.isnan(bonus)] = 0.0  # where the extension is impossible
        bonus += self.lm_total[:, None]
        bonus += ext
        stay = stay + self.lm_total + fusion.pending.take(self.node)
        return np.concatenate([stay[:, None], bonus], axis=1).reshape(-1), at_next

    def _select(self, rank, width):
        """Per row: the candidates within `beam_prune_logp` of the row's best,
        and of those the k best (rows stay grouped, in order)."""
        batch, k = self.batch, self.k
        candidate_row = self.row.repeat(width + 1)
        if self.beam_prune_logp is not None:
            floor = _row_max(rank, candidate_row, batch) - self.beam_prune_logp
            keep = rank >= np.maximum(floor, _LOWEST)
        else:
            keep = rank > _NEG_INF
        chosen = keep.nonzero()[0]
        row = candidate_row.take(chosen)
        if len(chosen) > k:
            per_row = np.bincount(row, minlength=batch)
            if per_row.max() > k:
                start = np.cumsum(per_row) - per_row
                table = np.full((batch, per_row.max()), _NEG_INF)
                table[row, self.positions[: len(chosen)] - start.take(row)] = rank.take(chosen)
                best = (-table).argpartition(k - 1, axis=1)[:, :k]
                best = (best + start[:, None])[best < per_row[:, None]]
                chosen, row = chosen.take(best), row.take(best)
        return chosen, row

    def _advance(self, chosen, row, width, tokens, stay_b, stay_nb, ext, at_next):
        """The chosen candidates become the live prefixes."""
        span = width + 1
        src = chosen // span
        is_stay = chosen - src * span == 0
        tok = np.concatenate([np.full((len(self.row), 1), -1), tokens], axis=1).reshape(-1).take(chosen)
        self.row = row
        self.p_b = np.where(is_stay, stay_b.take(src), _NEG_INF)
        self.p_nb = np.concatenate([stay_nb[:, None], ext], axis=1).reshape(-1).take(chosen)
        self.last = np.where(is_stay, self.last.take(src), tok)
        src_hash = self.prefix_hash.take(src)
        self.prefix_hash = np.where(is_stay, src_hash, src_hash * _HASH_MULT + (tok + 1).astype(np.uint64))
        fusion = self.fusion
        if fusion is not None:
            grown = ~is_stay
            at_chosen = at_next.reshape(-1).take(np.maximum(chosen - src - 1, 0))
            child = fusion.trans.take(at_chosen)
            missing = (grown & (child < 0)).nonzero()[0]
            if len(missing):
                child[missing] = fusion.children(at_chosen.take(missing))
            self.lm_total = self.lm_total.take(src) + np.where(grown, fusion.bonus.take(at_chosen), 0.0)
            self.node = np.where(grown, child, self.node.take(src))
        self.back.append((src, tok))

    # -- the result ----------------------------------------------------------

    def _paths(self, top_paths):
        final = np.logaddexp(self.p_b, self.p_nb)
        if self.fusion is not None:
            final += self.lm_total
            finite = np.isfinite(final)
            final[finite] += self.fusion.final_bonuses(self.node[finite])
        # Per row: the top paths, best first.
        order = np.lexsort((-final, self.row))
        grouped = self.row.take(order)
        place = np.arange(len(order)) - grouped.searchsorted(grouped)
        keep = place < top_paths
        beams, at_row, at_place = order[keep], grouped[keep], place[keep]
        scores = np.full((self.batch, top_paths), _NEG_INF)
        scores[at_row, at_place] = final.take(beams)
        labels = np.full((self.time, len(beams)), -1, dtype=np.int64)
        for t in range(self.time - 1, -1, -1):
            if self.back[t] is not None:
                src, tok = self.back[t]
                labels[t] = tok.take(beams)
                beams = src.take(beams)
        paths = [[np.zeros(0, "int32") for _ in range(top_paths)] for _ in range(self.batch)]
        for i, (b, j) in enumerate(zip(at_row.tolist(), at_place.tolist())):
            if np.isfinite(scores[b, j]):
                seq = labels[:, i]
                paths[b][j] = seq[seq >= 0].astype("int32")
        return paths, scores
