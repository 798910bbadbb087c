"""End-to-end memory network (Sukhbaatar et al., 2015) and an LSTM reader baseline.

Both models read ``{"story": [B, M, J], "question": [B, Jq]}`` word ids (0 is
padding) where memory slot 0 holds the *most recent* sentence, slot 1 the one
before it, and so on (empty slots are all zeros), and return logits ``[B, V]``
over the word vocabulary (the answer is one word).
"""

from __future__ import annotations

import keras
from keras import ops

from applications import contract


def position_encoding(word_ids, dim):
    """Sukhbaatar et al.'s position-encoding weights for bag-of-words sentences.

    ``l[k, j] = (1 - j / J) - (k / d) * (1 - 2 j / J)`` for word ``j = 1..J``
    and embedding dimension ``k = 1..d``, where ``J`` is the number of (non-pad)
    words in the sentence; padding positions get weight 0. Returns
    ``word_ids.shape + (dim,)``.

    Example:
    >>> import numpy as np
    >>> l = np.asarray(position_encoding(np.array([[5, 7, 0]]), 2))
    >>> np.round(l[0], 3).tolist()  # J = 2 words: j = 1, 2; k = 1, 2
    [[0.5, 0.5], [0.5, 1.0], [0.0, 0.0]]
    """
    present = ops.cast(ops.not_equal(word_ids, 0), "float32")
    count = ops.maximum(ops.sum(present, axis=-1, keepdims=True), 1.0)  # J
    j = ops.cast(ops.arange(1, ops.shape(word_ids)[-1] + 1), "float32") / count  # j / J
    k = ops.cast(ops.arange(1, dim + 1), "float32") / dim  # k / d
    weights = (1.0 - j)[..., None] - k * (1.0 - 2.0 * j)[..., None]
    return weights * present[..., None]


@contract.serializable
class MemoryNetwork(keras.Model):
    """MemN2N with adjacent weight tying, position and temporal encoding.

    Embeddings ``E_0 .. E_K`` (``K = hops``): hop ``k`` uses ``A = E_{k-1}``
    for the memory keys and ``C = E_k`` for the memory values, the question
    is embedded with ``B = E_0`` and the answer logits are
    ``(u_K + o_K) E_K^T`` (the paper's adjacent tying, W^T = C^K).
    Sentences are position-weighted bags of words (`position_encoding`) plus
    a learned temporal vector per memory slot (``T_A``/``T_C``, tied the same
    way), ``p = softmax(u^T m)`` over the non-empty slots, ``o = sum p c``,
    ``u_{k+1} = u_k + o_k``.

    Args:
        vocabulary_size: int.
        memory_size: int, number of memory slots (most recent sentences).
        embedding_dim: int. Defaults to `50`.
        hops: int. Defaults to `3`.

    Example:
    >>> import numpy as np
    >>> model = MemoryNetwork(20, memory_size=4, embedding_dim=8)
    >>> story = np.array([[[3, 4, 5], [6, 7, 0], [0, 0, 0], [0, 0, 0]]])
    >>> tuple(model({"story": story, "question": np.array([[8, 3]])}).shape)
    (1, 20)
    """

    def __init__(self, vocabulary_size, memory_size, embedding_dim=50, hops=3, **kwargs):
        super().__init__(**kwargs)
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("memory_size", memory_size),
            ("embedding_dim", embedding_dim),
            ("hops", hops),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer; received {value!r}.")
        self.vocabulary_size = vocabulary_size
        self.memory_size = memory_size
        self.embedding_dim = embedding_dim
        self.hops = hops
        init = keras.initializers.RandomNormal(stddev=0.1)
        self.word_embeddings = [
            keras.layers.Embedding(vocabulary_size, embedding_dim, embeddings_initializer=init, name=f"E_{k}")
            for k in range(hops + 1)
        ]
        self.temporal_embeddings = [
            keras.layers.Embedding(memory_size, embedding_dim, embeddings_initializer=init, name=f"T_{k}")
            for k in range(hops + 1)
        ]

    def build(self, input_shape=None):
        for layer in self.word_embeddings + self.temporal_embeddings:
            layer.build((None,))
        self.built = True

    def _sentences(self, ids, k):
        embedded = self.word_embeddings[k](ids)
        return ops.sum(embedded * position_encoding(ids, self.embedding_dim), axis=-2)

    def attention(self, inputs):
        """Per-hop attention weights over the memory slots, ``[B, hops, M]``."""
        return self.call(inputs, return_attention=True)[1]

    def call(self, inputs, return_attention=False):
        story = ops.cast(inputs["story"], "int32")
        question = ops.cast(inputs["question"], "int32")
        slots = ops.arange(ops.shape(story)[1])
        filled = ops.any(ops.not_equal(story, 0), axis=-1)  # [B, M]
        u = self._sentences(question, 0)
        memories = [self._sentences(story, k) + self.temporal_embeddings[k](slots)[None] for k in range(self.hops + 1)]
        weights = []
        for k in range(self.hops):
            scores = ops.einsum("bmd,bd->bm", memories[k], u)
            scores = ops.where(filled, scores, -1e9)
            p = ops.softmax(scores, axis=-1)
            weights.append(p)
            u = u + ops.einsum("bm,bmd->bd", p, memories[k + 1])
        logits = ops.matmul(u, ops.transpose(self.word_embeddings[self.hops].embeddings))
        if return_attention:
            return logits, ops.stack(weights, axis=1)
        return logits

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            memory_size=self.memory_size,
            embedding_dim=self.embedding_dim,
            hops=self.hops,
        )
        return config


@contract.serializable
class LstmReader(keras.Model):
    """The LSTM baseline of Weston et al.: one LSTM reads the story's words in
    order, then the question's, and a softmax layer on its last state picks
    the answer word.

    Example:
    >>> import numpy as np
    >>> model = LstmReader(20, units=8)
    >>> story = np.array([[[3, 4, 5], [6, 7, 0], [0, 0, 0]]])
    >>> tuple(model({"story": story, "question": np.array([[8, 3]])}).shape)
    (1, 20)
    """

    def __init__(self, vocabulary_size, units=64, embedding_dim=50, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.units = units
        self.embedding_dim = embedding_dim
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")
        self.lstm = keras.layers.LSTM(units, name="lstm")
        self.output_layer = keras.layers.Dense(vocabulary_size, name="answer")

    def call(self, inputs):
        story = ops.cast(inputs["story"], "int32")
        question = ops.cast(inputs["question"], "int32")
        # Slot 0 is the most recent sentence: reverse to read in story order.
        words = ops.reshape(ops.flip(story, axis=1), (ops.shape(story)[0], -1))
        sequence = ops.concatenate([words, question], axis=1)
        return self.output_layer(self.lstm(self.embedding(sequence)))

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary_size=self.vocabulary_size, units=self.units, embedding_dim=self.embedding_dim)
        return config
