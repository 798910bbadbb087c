"""Pieces shared by the Transformer-family models."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._validation import check_positive_ints
from keras_seq._validation import check_token_ids as _check_id_values


def validate_sizes(**sizes):
    check_positive_ints(sizes)


class StoredConfig:
    """Stores a model's constructor arguments as attributes and returns them
    from `get_config`, so each argument is listed once (in `__init__`)."""

    def store_config(self, arguments, positive=()):
        """`arguments` is the constructor's `locals()`; names in `positive`
        must be positive integers (one `ValueError` lists every violation)."""
        arguments = {
            k: v for k, v in arguments.items() if k not in ("self", "kwargs", "__class__")
        }
        validate_sizes(**{name: arguments[name] for name in positive})
        for name, value in arguments.items():
            setattr(self, name, value)
        object.__setattr__(self, "_stored_config_names", tuple(arguments))

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self._stored_config_names})
        return config


def check_heads(hidden_dim, num_heads):
    if hidden_dim % num_heads:
        raise ValueError(
            f"`hidden_dim` ({hidden_dim}) must be divisible by `num_heads` ({num_heads})."
        )


def check_token_ids(name, token_ids, vocabulary_size=None):
    """`token_ids` as a tensor, checked: rank 2, and (given the vocabulary
    size) integers in [0, vocabulary_size) whenever the values are known."""
    token_ids = ops.convert_to_tensor(token_ids)
    if len(token_ids.shape) != 2:
        raise ValueError(
            f"`{name}` must be integer ids of rank 2 [batch, time]; received shape "
            f"{tuple(token_ids.shape)}."
        )
    if vocabulary_size is not None:
        _check_id_values(token_ids, vocabulary_size, name)
    return token_ids


class TiedOutputProjection(keras.layers.Layer):
    """Logits from hidden states: `x @ E^T + b`, with `E` an `Embedding`'s table.

    Used for weight tying (Press & Wolf, 2017): the output projection reuses
    the token embedding matrix. Computed in float32 under mixed precision.
    A model creates it from its own config (it is not serialised on its own).
    """

    def __init__(self, embedding, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding
        self.use_bias = use_bias
        self.supports_masking = True

    def build(self, inputs_shape):
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.embedding.input_dim,), initializer="zeros"
            )

    def call(self, inputs):
        table = ops.cast(self.embedding.embeddings, "float32")
        logits = ops.matmul(ops.cast(inputs, "float32"), ops.transpose(table))
        if self.use_bias:
            logits = logits + ops.cast(self.bias, "float32")
        return logits

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(tuple(inputs.shape[:-1]) + (self.embedding.input_dim,), "float32")


def output_projection(tie_embeddings, token_embedding, vocabulary_size, name="output_projection"):
    if tie_embeddings:
        return TiedOutputProjection(token_embedding, name=name)
    return keras.layers.Dense(vocabulary_size, dtype="float32", name=name)


def decoder_stack(num_layers, num_heads, intermediate_dim, dropout, activation, norm_first, cross_attention, policy, prefix):
    from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock

    return [
        TransformerDecoderBlock(
            num_heads,
            intermediate_dim,
            dropout=dropout,
            activation=activation,
            norm_first=norm_first,
            cross_attention=cross_attention,
            dtype=policy,
            name=f"{prefix}_{i}",
        )
        for i in range(num_layers)
    ]
