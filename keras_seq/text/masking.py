"""BERT's masked-language-model corruption, for NumPy arrays and tf.data."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from keras_seq._validation import id_array

# Non-candidate positions get this score, above any uniform draw in [0, 1), so
# that they sort after every candidate and are never among the k selected.
_NOT_A_CANDIDATE = 2.0


def mlm_mask(
    token_ids,
    vocabulary_size: int,
    mask_id: int,
    rate: float = 0.15,
    mask_fraction: float = 0.8,
    random_fraction: float = 0.1,
    special_ids: Iterable[int] = (),
    seed=None,
):
    """Corrupts token ids for masked-language-model training, as in BERT.

    In each sequence, ``round(rate * n)`` of its ``n`` candidate tokens (at
    least one when ``n > 0``) are selected uniformly at random, as BERT's
    ``create_pretraining_data`` does. Candidates are the tokens that are not
    special: padding (id 0), `mask_id` and `special_ids` (e.g. ``[CLS]``,
    ``[SEP]``) are never selected. Each selected token is then, independently,
    replaced by `mask_id` with probability `mask_fraction`, by a random token
    with probability `random_fraction` (drawn uniformly from the non-special
    ids in ``[0, vocabulary_size)``, so it may equal the original), and left
    unchanged otherwise.

    The targets are ``labels`` (the original id at selected positions, 0
    elsewhere) and ``weights`` (1.0 at selected positions, 0.0 elsewhere), so
    ``loss(labels, logits, sample_weight=weights)`` counts only the selected
    positions.

    NumPy arrays and lists are corrupted with NumPy (a `numpy.random.Generator`)
    and give NumPy arrays. TensorFlow tensors, including the symbolic tensors
    inside ``tf.data.Dataset.map``, are corrupted with TensorFlow's stateless
    random ops (``tf.random.stateless_uniform``) and give tensors. Both paths
    have the same semantics and statistics, but draw from different
    generators, so the same `seed` selects different positions in each.

    How `seed` is used:

    * NumPy input: ``None`` (fresh entropy), an int, or a
      `numpy.random.Generator` (used and advanced in place).
    * Tensor input: an int makes the corruption a deterministic function of
      the seed and the token ids (the seed is folded with a fingerprint of the
      ids), so a ``Dataset.map`` is reproducible and each example gets its own
      mask, the same one every epoch (BERT's static masking). A
      `keras.random.SeedGenerator` or ``None`` gives a fresh mask on each call,
      i.e. every epoch (RoBERTa's dynamic masking); the generator makes the
      stream reproducible. A shape ``[2]`` integer tensor is used as the
      stateless seed as it is (e.g. zip the data with
      ``tf.data.Dataset.random(seed).batch(2)``).

    Args:
        token_ids: Integer ids, rank 1 ``[T]`` (one sequence) or rank 2
            ``[B, T]``: a NumPy array, a nested list or a dense `tf.Tensor`.
        vocabulary_size: The number of ids; all ids are in
            ``[0, vocabulary_size)``.
        mask_id: The id of the ``[MASK]`` token, in ``[1, vocabulary_size)``.
            It counts as a special id.
        rate: The share of candidate tokens to select, in ``(0, 1]``.
            Defaults to `0.15`.
        mask_fraction: The share of selected tokens replaced by `mask_id`.
            Defaults to `0.8`.
        random_fraction: The share of selected tokens replaced by a random
            non-special token. ``mask_fraction + random_fraction <= 1``; the
            rest are kept. Defaults to `0.1`.
        special_ids: Ids never selected nor drawn as random replacements, in
            addition to 0 and `mask_id`. Defaults to `()`.
        seed: See above. Defaults to `None`.

    Returns:
        A tuple ``(inputs, labels, weights)``: the corrupted ids and the labels
        with the dtype and shape of `token_ids`, and float32 weights of the same
        shape.

    Raises:
        ValueError: If an argument is invalid (the message names it).

    Example:

    >>> import numpy as np
    >>> from keras_seq.text import mlm_mask
    >>> ids = np.array([[2, 11, 12, 13, 14, 15, 16, 17, 18, 19, 3, 0]])
    >>> inputs, labels, weights = mlm_mask(
    ...     ids, vocabulary_size=20, mask_id=4, special_ids=(2, 3), seed=0
    ... )
    >>> int(weights.sum())  # round(0.15 * 9 candidates)
    1
    >>> bool(np.all((labels == 0) | (labels == ids)))
    True
    >>> bool(np.all(inputs[weights == 0] == ids[weights == 0]))
    True
    """
    specials = _validate(
        vocabulary_size, mask_id, rate, mask_fraction, random_fraction, special_ids
    )
    replacements = np.setdiff1d(
        np.arange(vocabulary_size, dtype=np.int64), np.asarray(specials, np.int64)
    )
    if random_fraction > 0 and replacements.size == 0:
        raise ValueError(
            "`random_fraction` must be 0 when every id in [0, vocabulary_size) "
            f"is special (vocabulary_size={vocabulary_size}, special ids "
            f"{specials}): there is no token to draw."
        )
    options = _MaskingOptions(
        specials, replacements, vocabulary_size, mask_id, rate, mask_fraction, random_fraction
    )
    if isinstance(token_ids, tf.RaggedTensor):
        raise ValueError(
            "`token_ids` must be dense: map `mlm_mask` over the examples of a "
            "dataset before batching, or pad the batch first."
        )
    if tf.is_tensor(token_ids):
        return _mask_tensor(token_ids, options, seed)
    if isinstance(token_ids, list | tuple | np.ndarray | np.generic):
        return _mask_numpy(token_ids, options, seed)
    raise ValueError(
        "`token_ids` must be a NumPy array, a nested list or a tf.Tensor; got "
        f"{type(token_ids).__name__}."
    )


class _MaskingOptions(NamedTuple):
    """The validated arguments both masking paths (NumPy, tensor) take."""

    specials: list
    replacements: np.ndarray
    vocabulary_size: int
    mask_id: int
    rate: float
    mask_fraction: float
    random_fraction: float


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _validate(
    vocabulary_size, mask_id, rate, mask_fraction, random_fraction, special_ids
) -> list[int]:
    """Checks every argument but `token_ids`/`seed`; returns the special ids."""
    if not _is_int(vocabulary_size) or vocabulary_size < 2:
        raise ValueError(
            f"`vocabulary_size` must be an integer >= 2; got {vocabulary_size!r}."
        )
    if not _is_int(mask_id) or not 1 <= mask_id < vocabulary_size:
        raise ValueError(
            f"`mask_id` must be an integer in [1, vocabulary_size={vocabulary_size}) "
            f"(id 0 is padding); got {mask_id!r}."
        )
    if not _is_real(rate) or not 0.0 < rate <= 1.0:
        raise ValueError(f"`rate` must be a number in (0, 1]; got {rate!r}.")
    for name, value in (
        ("mask_fraction", mask_fraction),
        ("random_fraction", random_fraction),
    ):
        if not _is_real(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"`{name}` must be a number in [0, 1]; got {value!r}.")
    if mask_fraction + random_fraction > 1.0 + 1e-9:
        raise ValueError(
            "`mask_fraction` + `random_fraction` must be <= 1 (the rest of the "
            f"selected tokens are kept); got {mask_fraction} + {random_fraction}."
        )
    if isinstance(special_ids, str) or not isinstance(special_ids, Iterable):
        raise ValueError(
            f"`special_ids` must be an iterable of integer ids; got {special_ids!r}."
        )
    specials = {0, int(mask_id)}
    for value in special_ids:
        if not _is_int(value) or not 0 <= value < vocabulary_size:
            raise ValueError(
                "`special_ids` must hold integers in [0, vocabulary_size="
                f"{vocabulary_size}); got {value!r}."
            )
        specials.add(int(value))
    return sorted(specials)


def _mask_numpy(token_ids, options: _MaskingOptions, seed):
    (specials, replacements, vocabulary_size, mask_id, rate, mask_fraction,
     random_fraction) = options  # fmt: skip
    ids = id_array(token_ids, "token_ids", vocabulary_size)
    if _is_int(seed) and seed < 0:
        raise ValueError(f"`seed` must be a non-negative int; got {seed}.")
    if seed is None or _is_int(seed):
        rng = np.random.default_rng(seed)
    elif isinstance(seed, np.random.Generator):
        rng = seed
    else:
        raise ValueError(
            "`seed` must be None, an int or a numpy.random.Generator for NumPy "
            f"`token_ids`; got {seed!r}."
        )
    rows = ids.reshape(-1, ids.shape[-1])

    candidate = ~np.isin(rows, specials)
    num_candidates = candidate.sum(axis=1)
    num_selected = np.where(
        num_candidates > 0, np.maximum(np.round(num_candidates * rate), 1), 0
    )
    scores = np.where(candidate, rng.random(rows.shape), _NOT_A_CANDIDATE)
    order = np.argsort(scores, axis=1, kind="stable")
    ranks = np.argsort(order, axis=1, kind="stable")
    selected = ranks < num_selected[:, None]

    action = rng.random(rows.shape)
    if replacements.size:
        drawn = replacements[rng.integers(0, replacements.size, size=rows.shape)]
    else:
        drawn = rows
    inputs = np.where(
        selected & (action < mask_fraction),
        mask_id,
        np.where(selected & (action < mask_fraction + random_fraction), drawn, rows),
    ).astype(ids.dtype)
    labels = np.where(selected, rows, 0).astype(ids.dtype)
    weights = selected.astype(np.float32)
    return (
        inputs.reshape(ids.shape),
        labels.reshape(ids.shape),
        weights.reshape(ids.shape),
    )


def _stateless_seed(seed, ids: tf.Tensor) -> tf.Tensor:
    """Turns the accepted `seed` forms into a shape [2] int64 stateless seed."""
    if seed is None:
        return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
    if isinstance(seed, keras.random.SeedGenerator):
        return tf.cast(seed.next(), tf.int64)
    if _is_int(seed):
        flat = tf.reshape(tf.cast(ids, tf.int64), [1, -1])
        fingerprint = tf.bitcast(tf.fingerprint(flat)[0], tf.int64)
        return tf.random.experimental.stateless_fold_in(
            tf.constant([int(seed), 0], tf.int64), fingerprint
        )
    if tf.is_tensor(seed) or isinstance(seed, np.ndarray | list | tuple):
        seed_tensor = tf.convert_to_tensor(seed)
        if not seed_tensor.dtype.is_integer or seed_tensor.shape.as_list() != [2]:
            raise ValueError(
                "A tensor `seed` must be a shape [2] integer tensor (a stateless "
                f"seed); got shape {seed_tensor.shape} and dtype "
                f"{seed_tensor.dtype.name}."
            )
        return tf.cast(seed_tensor, tf.int64)
    raise ValueError(
        "`seed` must be None, an int, a keras.random.SeedGenerator or a shape "
        f"[2] integer tensor for tensor `token_ids`; got {seed!r}."
    )


def _mask_tensor(token_ids, options: _MaskingOptions, seed):
    (specials, replacements, vocabulary_size, mask_id, rate, mask_fraction,
     random_fraction) = options  # fmt: skip
    ids = tf.convert_to_tensor(token_ids)
    if not ids.dtype.is_integer:
        raise ValueError(f"`token_ids` must hold integers; got dtype {ids.dtype.name}.")
    rank = ids.shape.rank
    if rank not in (1, 2):
        raise ValueError(
            "`token_ids` must have rank 1 ([time]) or 2 ([batch, time]); got "
            f"shape {ids.shape}."
        )
    stateless_seed = _stateless_seed(seed, ids)
    select_seed, action_seed, draw_seed = tf.unstack(
        tf.random.experimental.stateless_split(stateless_seed, num=3)
    )
    rows = ids if rank == 2 else ids[tf.newaxis]
    shape = tf.shape(rows)

    is_special = tf.reduce_any(
        tf.equal(rows[..., tf.newaxis], tf.constant(specials, dtype=ids.dtype)),
        axis=-1,
    )
    candidate = tf.logical_not(is_special)
    num_candidates = tf.reduce_sum(tf.cast(candidate, tf.int64), axis=1)
    # float64, like NumPy, so both paths round rate * n identically.
    rounded = tf.round(tf.cast(num_candidates, tf.float64) * float(rate))
    num_selected = tf.where(
        num_candidates > 0, tf.maximum(tf.cast(rounded, tf.int64), 1), 0
    )
    scores = tf.where(
        candidate,
        tf.random.stateless_uniform(shape, seed=select_seed, dtype=tf.float32),
        _NOT_A_CANDIDATE,
    )
    order = tf.argsort(scores, axis=1, stable=True)
    ranks = tf.argsort(order, axis=1, stable=True)
    selected = tf.cast(ranks, tf.int64) < num_selected[:, tf.newaxis]

    action = tf.random.stateless_uniform(shape, seed=action_seed, dtype=tf.float32)
    if replacements.size:
        index = tf.random.stateless_uniform(
            shape,
            seed=draw_seed,
            minval=0,
            maxval=int(replacements.size),
            dtype=tf.int64,
        )
        drawn = tf.gather(tf.constant(replacements, dtype=ids.dtype), index)
    else:
        drawn = rows
    use_mask = selected & (action < mask_fraction)
    use_random = selected & (action < mask_fraction + random_fraction)
    inputs = tf.where(
        use_mask,
        tf.cast(mask_id, ids.dtype),
        tf.where(use_random, drawn, rows),
    )
    labels = tf.where(selected, rows, tf.zeros_like(rows))
    weights = tf.cast(selected, tf.float32)
    if rank == 1:
        return inputs[0], labels[0], weights[0]
    return inputs, labels, weights
