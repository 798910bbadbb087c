"""Pieces shared by the Transformer-family models."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._config import AttributeConfig
from keras_seq._validation import check_positive_ints
from keras_seq._validation import check_token_ids as _check_id_values

# Constructor arguments that are sizes or counts: wherever a model has one,
# it must be a positive integer.
SIZE_ARGUMENTS = frozenset(
    {
        "vocabulary_size",
        "encoder_vocabulary_size",
        "decoder_vocabulary_size",
        "source_vocabulary_size",
        "target_vocabulary_size",
        "sequence_length",
        "num_layers",
        "num_encoder_layers",
        "num_decoder_layers",
        "hidden_dim",
        "num_heads",
        "intermediate_dim",
        "num_segments",
        "bucket_size",
        "num_hashes",
        "num_chunks",
        "embedding_dim",
        "encoder_units",
        "decoder_units",
        "attention_units",
    }
)


def validate_sizes(**sizes):
    check_positive_ints(sizes)


class StoredConfig(AttributeConfig):
    """Stores a model's constructor arguments as attributes and returns them
    from `get_config` (`AttributeConfig`), so each argument is listed once
    (in `__init__`)."""

    def store_config(self, arguments):
        """`arguments` is the constructor's `locals()`. Every size argument
        (`SIZE_ARGUMENTS`) must be a positive integer (one `ValueError` lists
        every violation), and `hidden_dim`, where given, must be divisible by
        `num_heads`."""
        arguments = {
            k: v for k, v in arguments.items() if k not in ("self", "kwargs", "__class__")
        }
        validate_sizes(**{k: v for k, v in arguments.items() if k in SIZE_ARGUMENTS})
        if "hidden_dim" in arguments:
            check_heads(arguments["hidden_dim"], arguments["num_heads"])
        for name, value in arguments.items():
            setattr(self, name, value)
        object.__setattr__(self, "config_attributes", tuple(arguments))


def seq2seq_inputs(inputs):
    """`(encoder_tokens, decoder_tokens)` of an encoder-decoder model's
    `inputs` dict; any other structure raises a `ValueError` naming it."""
    if not isinstance(inputs, dict) or set(inputs) != {"encoder_tokens", "decoder_tokens"}:
        raise ValueError(
            "`inputs` must be a dict with keys 'encoder_tokens' and 'decoder_tokens'; "
            f"received {type(inputs).__name__}"
            + (f" with keys {sorted(inputs)}" if isinstance(inputs, dict) else "")
            + "."
        )
    return inputs["encoder_tokens"], inputs["decoder_tokens"]


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
