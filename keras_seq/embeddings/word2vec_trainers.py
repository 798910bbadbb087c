"""The two trainers of `keras_seq.embeddings.Word2Vec`: how one batch of
windows updates the tables.

* fused (`fused_step_function`): one call of keras_seq's C++ CPU op
  (`word2vec_kernel.cc`), word2vec's sequential per-pair SGD in place;
* batched (`batched_step_function`, `BatchedUpdates`): TensorFlow ops on any
  device, summed updates with a per-row cap, optionally under a
  `tf.distribute` strategy.

`Word2Vec` documents what each computes; the tests replay both against
per-pair SGD loops.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from keras_seq._custom_ops import CustomOpBuildError, load_op_library
from keras_seq.embeddings.sampling import (
    alias_table,
    draw_negatives,
    negative_distribution,
)

KERNEL_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "word2vec_kernel.cc")
TRAINERS = ("auto", "fused", "batched")


def fused_kernel():
    """The module of keras_seq's fused word2vec CPU op
    (`keras_seq_word2_vec_sgd`), compiled on first use (see
    `keras_seq._custom_ops`); raises `CustomOpBuildError` if it cannot be
    built."""
    return load_op_library(KERNEL_SOURCE)


def resolve_trainer(model):
    """'fused' or 'batched' for a fit of `model` (see `Word2Vec`'s `trainer`)."""
    if model.trainer == "batched" or model.strategy is not None:
        return "batched"
    if model.trainer == "auto":
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
            return "batched"
    try:
        fused_kernel()
    except CustomOpBuildError as error:
        if model.trainer == "fused":
            raise
        warnings.warn(f"Word2Vec: using the batched TensorFlow trainer; the fused CPU kernel is unavailable: {error}",
                      RuntimeWarning, stacklevel=4)
        return "batched"
    return "fused"


def fused_step_function(model, syn0, syn1):
    """The fused step `step(tokens, window_mask, lr, seed)`: one call of
    keras_seq's C++ op (sequential per-pair SGD in place, negatives from
    the alias table of `negative_distribution`); returns (loss, examples).
    Called eagerly: the op is the whole step, and a `tf.function` around
    it only adds call overhead."""
    import tensorflow as tf

    train = fused_kernel().keras_seq_word2_vec_sgd
    threshold, alias = alias_table(negative_distribution(model.counts))
    threshold, alias = tf.constant(threshold), tf.constant(alias)
    k, sg = model.negative, model.sg

    def step(tokens, window_mask, lr, seed):
        return train(syn0.handle, syn1.handle, tf.convert_to_tensor(tokens, tf.int32),
                     tf.convert_to_tensor(window_mask, tf.bool), threshold, alias, lr, seed,
                     negative=k, sg=sg)

    if not tf.config.list_logical_devices("GPU"):
        return step  # everything is on the CPU already: no device scope per call

    def step_on_cpu(tokens, window_mask, lr, seed):
        with tf.device("/CPU:0"):
            return step(tokens, window_mask, lr, seed)

    return step_on_cpu


class BatchedUpdates:
    """The SGD updates of one batch at the current weights (batched trainer).

    `updates(syn0, syn1, tokens, window_mask, negatives, lr)` returns the
    summed input-side rows per span position `rows0` [B + 2W, D] (indexed
    by `tokens`), the output-side rows `rows1` with their word ids `ids1`
    (the B centres, then the negatives), the loss, the number of
    (context, centre) pairs, and how many (pair, target) terms each row
    of `rows0` and `rows1` sums (for the `max_row_updates` cap).

    Windows come in groups of `shared_negatives` (g) consecutive centres
    that share one draw of k negatives; the g windows of a group cover
    U = g + 2W consecutive positions.
    """

    def __init__(self, negative, sg, window, shared_negatives):
        self.k, self.sg, self.w, self.group = negative, sg, window, shared_negatives
        self.span = 2 * window + 1
        # [g, g+k]: window r's positive is column r; the negatives' columns are 0.
        self.labels = np.concatenate([np.eye(self.group), np.zeros((self.group, self.k))], 1).astype("float32")
        self.union = self.group + 2 * window  # positions covered by the windows of one group
        self.chunks = -(-self.union // self.group)

    def overlap_add(self, rows, groups):
        """[G, U, D] rows of overlapping groups (group G starts at G * g) ->
        [(G + chunks - 1) * g, D] per-position sums."""
        import tensorflow as tf

        group, chunks = self.group, self.chunks
        rows = tf.pad(rows, [[0, 0], [0, chunks * group - self.union], [0, 0]])
        parts = [tf.reshape(rows[:, c * group : (c + 1) * group], [groups * group, -1]) for c in range(chunks)]
        return tf.add_n([tf.pad(part, [[c * group, (chunks - 1 - c) * group], [0, 0]]) for c, part in enumerate(parts)])

    def _layout(self, syn0, syn1, tokens, window_mask, negatives):
        """The batch cut into groups: targets, weights and context rows."""
        import tensorflow as tf

        k, w, group = self.k, self.w, self.group
        batch = tf.shape(window_mask)[0]
        groups = (batch + group - 1) // group
        extra = groups * group - batch  # pad the batch to whole groups
        centres = tokens[w : w + batch]
        mask = tf.pad(tf.cast(window_mask, tf.float32), [[0, extra], [0, 0]])  # [G*g, 2W+1]
        padded_centres = tf.pad(centres, [[0, extra]], constant_values=-1)
        negatives = tf.reshape(negatives, [groups, k])
        targets = tf.concat([tf.reshape(tf.maximum(padded_centres, 0), [groups, group]), negatives], 1)
        u = tf.gather(syn1, targets)  # [G, g+k, D]: each window's positive, then its negatives
        # A negative equal to the centre word is skipped, as in word2vec.c.
        negative_weight = tf.cast(
            tf.reshape(padded_centres, [groups, group, 1]) != negatives[:, None, :], tf.float32
        )  # [G, g, k]
        column_weight = tf.concat(
            [tf.broadcast_to(self.labels[:, :group], [groups, group, group]), negative_weight], -1
        )  # [G, g, g+k]
        vectors = tf.gather(syn0, tokens)  # [B + 2W, D]
        contexts = tf.signal.frame(tf.pad(vectors, [[0, extra], [0, 0]]), self.union, group, axis=0)  # [G, U, D]
        windows = tf.reshape(mask, [groups, group, self.span])
        uses = tf.stack(
            [tf.pad(windows[:, r, :], [[0, 0], [r, group - 1 - r]]) for r in range(group)], 2
        )  # [G, U, g]: window r uses position p as a context
        return dict(batch=batch, groups=groups, centres=centres, mask=mask, negatives=negatives, u=u,
                    negative_weight=negative_weight, column_weight=column_weight, contexts=contexts,
                    windows=windows, uses=uses)

    def _scores(self, layout):
        """`(grouped inputs, scores, weight, label, pairs)` for skip-gram or CBOW."""
        import tensorflow as tf

        uses, u = layout["uses"], layout["u"]
        if self.sg:
            # The contexts share the group's negatives: each position is scored once
            # against the g positives and the k negatives, and a score is weighted
            # by the number of (window, context) pairs that use it.
            grouped = layout["contexts"]
            weight = tf.concat([uses, tf.matmul(uses, layout["negative_weight"])], -1)  # [G, U, g+k]
            scores = tf.matmul(grouped, u, transpose_b=True)  # [G, U, g+k]
            label = self.labels.max(axis=0)[None, None]  # 1 for the positives' columns, 0 for the negatives'
            pairs = tf.reduce_sum(layout["mask"])
        else:
            count = tf.reduce_sum(layout["windows"], axis=2)[:, :, None]  # [G, g, 1]
            grouped = tf.matmul(uses, layout["contexts"], transpose_a=True) / tf.maximum(count, 1.0)  # masked means
            scores = tf.matmul(grouped, u, transpose_b=True)  # [G, g, g+k]
            present = tf.cast(count > 0, tf.float32)
            weight = present * layout["column_weight"]
            label = self.labels[None]
            pairs = tf.reduce_sum(present)
        return grouped, scores, weight, label, pairs

    def __call__(self, syn0, syn1, tokens, window_mask, negatives, lr):
        import tensorflow as tf

        w, group = self.w, self.group
        layout = self._layout(syn0, syn1, tokens, window_mask, negatives)
        batch, groups, uses = layout["batch"], layout["groups"], layout["uses"]
        grouped, scores, weight, label, pairs = self._scores(layout)
        error = label - tf.sigmoid(scores)
        gradient = error * weight * lr
        # -log of the probability given to the right label, 1 - |label - sigmoid|.
        loss = -tf.reduce_sum(tf.math.log(tf.maximum(1.0 - tf.abs(error), 1e-7)) * weight)
        d_grouped = tf.matmul(gradient, layout["u"])  # input-side gradients
        d_u = tf.matmul(gradient, grouped, transpose_a=True)  # [G, g+k, D]
        if self.sg:  # [G, U, D] per-group rows -> [B + 2W, D] per-position sums (groups overlap by 2W)
            rows0 = self.overlap_add(d_grouped, groups)[: batch + 2 * w]
            terms0 = self.overlap_add(tf.reduce_sum(weight, axis=2)[:, :, None], groups)[: batch + 2 * w, 0]
        else:  # gensim's cbow_mean: every context word receives the whole error
            rows0 = self.overlap_add(tf.matmul(uses, d_grouped), groups)[: batch + 2 * w]
            centre_terms = tf.reduce_sum(weight, axis=2)[:, :, None]  # [G, g, 1]
            terms0 = self.overlap_add(tf.matmul(uses, centre_terms), groups)[: batch + 2 * w, 0]
        dim = tf.shape(syn0)[1]
        rows1 = tf.concat(
            [tf.reshape(d_u[:, :group], [-1, dim])[:batch], tf.reshape(d_u[:, group:], [-1, dim])], 0
        )
        ids1 = tf.concat([layout["centres"], tf.reshape(layout["negatives"], [-1])], 0)
        # How many (pair, target) terms each row sums: terms0 above, [B + G*k] here.
        column_terms = tf.reduce_sum(weight, axis=1)  # [G, g+k]
        terms1 = tf.concat(
            [tf.reshape(column_terms[:, :group], [-1])[:batch], tf.reshape(column_terms[:, group:], [-1])], 0
        )
        return rows0, rows1, ids1, loss, pairs, terms0, terms1


_COMPILED_STEPS = {}


def batched_step_function(model, syn0, syn1, cumulative, strategy=None):
    """The compiled training step `step(tokens, window_mask, lr, seed)`.

    Without a strategy the summed rows are scatter-added into the
    tables. With one, the batch is split into one contiguous chunk of
    windows per replica (each with its own negatives, drawn once for the
    whole batch), every replica sums its updates into dense [V, D]
    gradients, and these are all-reduced (summed) and added to the
    mirrored tables, so the result equals one device's step on the whole
    batch (up to float rounding). In both cases a word whose row sums
    n > `max_row_updates` (pair, target) terms in the step has its summed
    update scaled by max_row_updates / n, so that summed updates of very
    frequent words cannot overshoot.
    """
    # Concurrent workers' steps overlap, so they share the cap.
    cap = float(model.max_row_updates) / model.workers
    updates = BatchedUpdates(model.negative, model.sg, model.window, model.shared_negatives)
    if strategy is None:
        return _single_device_step(updates, syn0, syn1, cumulative, cap)
    return _distributed_step(updates, syn0, syn1, cumulative, cap, strategy)


def _single_device_step(updates, syn0, syn1, cumulative, cap):
    import tensorflow as tf

    k, group = updates.k, updates.group
    # One trace serves every fit with these settings and table shapes. The
    # shapes are part of the key because a trace can bake in the static
    # shape of the variables it was traced with (under pytest-xdist a
    # trace made for 8-dimensional tables was once reused for 50-dimensional
    # ones and failed in a reshape).
    key = (updates.sg, updates.w, k, group, cap, tuple(syn0.shape), tuple(syn1.shape), tuple(cumulative.shape))
    if key not in _COMPILED_STEPS:

        @tf.function(reduce_retracing=True)
        def compiled(syn0, syn1, cumulative, tokens, window_mask, lr, seed):
            batch = tf.shape(window_mask)[0]
            negatives = draw_negatives(cumulative, (batch + group - 1) // group * k, seed)
            rows0, rows1, ids1, loss, pairs, terms0, terms1 = updates(syn0, syn1, tokens, window_mask, negatives, lr)
            for table, rows, ids, terms in ((syn0, rows0, tokens, terms0), (syn1, rows1, ids1, terms1)):
                unique, position = tf.unique(ids)
                uses = tf.math.unsorted_segment_sum(terms, position, tf.shape(unique)[0])
                scale = tf.minimum(1.0, cap / tf.maximum(tf.gather(uses, position), 1.0))
                table.scatter_add(tf.IndexedSlices(rows * scale[:, None], ids))
            return loss, pairs

        _COMPILED_STEPS[key] = compiled
    compiled = _COMPILED_STEPS[key]
    return lambda tokens, window_mask, lr, seed: compiled(
        syn0, syn1, cumulative, tf.convert_to_tensor(tokens, tf.int32), tf.convert_to_tensor(window_mask, tf.bool),
        tf.convert_to_tensor(lr, tf.float32), tf.convert_to_tensor(seed, tf.int64)
    )


def _distributed_step(updates, syn0, syn1, cumulative, cap, strategy):
    import tensorflow as tf

    k, w, group = updates.k, updates.w, updates.group
    vocab = syn0.shape[0]
    replicas = strategy.num_replicas_in_sync

    def replica_step(tokens, window_mask, negatives, lr):
        batch = tf.shape(window_mask)[0]
        groups = (batch + group - 1) // group
        per_replica = (groups + replicas - 1) // replicas
        replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
        first = tf.minimum(replica * per_replica, groups)
        last = tf.minimum(first + per_replica, groups)
        start, stop = tf.minimum(first * group, batch), tf.minimum(last * group, batch)
        tokens = tokens[start : stop + 2 * w]
        rows0, rows1, ids1, loss, pairs, terms0, terms1 = updates(
            syn0, syn1, tokens, window_mask[start:stop], negatives[first * k : last * k], lr
        )
        return (
            tf.math.unsorted_segment_sum(rows0, tokens, vocab),
            tf.math.unsorted_segment_sum(terms0, tokens, vocab),
            tf.math.unsorted_segment_sum(rows1, ids1, vocab),
            tf.math.unsorted_segment_sum(terms1, ids1, vocab),
            loss,
            pairs,
        )

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None, updates.span], tf.bool),
            tf.TensorSpec([], tf.float32),
            tf.TensorSpec([2], tf.int64),
        ],
        reduce_retracing=True,
    )
    def distributed_step(tokens, window_mask, lr, seed):
        batch = tf.shape(window_mask)[0]
        negatives = draw_negatives(cumulative, (batch + group - 1) // group * k, seed)
        results = strategy.run(replica_step, args=(tokens, window_mask, negatives, lr))
        d0, uses0, d1, uses1, loss, pairs = (
            strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results
        )
        syn0.assign_add(d0 * tf.minimum(1.0, cap / tf.maximum(uses0, 1.0))[:, None])
        syn1.assign_add(d1 * tf.minimum(1.0, cap / tf.maximum(uses1, 1.0))[:, None])
        return loss, pairs

    return distributed_step
