"""Shared construction and validation for the Transformer blocks."""

from __future__ import annotations

import keras
from keras import ops

from keras_seq._validation import positive_int_errors, raise_errors, rate_error
from keras_seq.ops.attention import check_mask_broadcasts, linear


def validate_block_args(num_heads, intermediate_dim, dropout, layer_norm_epsilon):
    errors = positive_int_errors({"num_heads": num_heads, "intermediate_dim": intermediate_dim})
    if rate_error("dropout", dropout):
        errors.append(rate_error("dropout", dropout))
    if not isinstance(layer_norm_epsilon, (int, float)) or layer_norm_epsilon <= 0:
        errors.append(
            f"`layer_norm_epsilon` must be a positive float; received {layer_norm_epsilon!r}."
        )
    raise_errors(errors)


def head_dim(width, num_heads, name):
    if width is None:
        raise ValueError(f"The last dimension of `{name}` must be known.")
    if width % num_heads:
        raise ValueError(
            f"The width of `{name}` ({width}) must be divisible by `num_heads` "
            f"({num_heads})."
        )
    return width // num_heads


def plain_projections(*layers):
    """Whether these `Dense`/`EinsumDense` layers (None allowed) are plain
    float projections: not quantized, no LoRA, no activity regularizer, so
    their kernels can be used directly in 2-D matmuls."""
    return all(
        layer is None
        or (
            not layer.lora_enabled
            and layer.quantization_mode is None
            and layer.activity_regularizer is None
        )
        for layer in layers
    )


def normalize(norm, x):
    """`norm(x)` for a Keras `LayerNormalization`; on TensorFlow, for the
    plain case (last axis, centre and scale, no RMS scaling, no
    regularizer), through `layer_norm` of `keras_seq/ops/_attention_tf.py`:
    the same function in fewer element-wise passes."""
    axes = tuple(norm.axis) if isinstance(norm.axis, (list, tuple)) else (norm.axis,)
    plain = (
        keras.backend.backend() == "tensorflow"
        and axes in ((-1,), (len(x.shape) - 1,))
        and norm.center
        and norm.scale
        and not norm.rms_scaling
        and norm.activity_regularizer is None
    )
    if not plain:
        return norm(x)
    from keras_seq.ops._attention_tf import layer_norm

    outputs = layer_norm(x, norm.gamma.value, norm.beta.value, norm.epsilon)
    return ops.cast(outputs, norm.compute_dtype)


def clone_initializer(initializer):
    return initializer.__class__.from_config(initializer.get_config())


def _mask_of_rank(mask, name, rank, axes):
    """`mask` as a tensor; raises unless it has `rank` dimensions (`axes`)."""
    mask = ops.convert_to_tensor(mask)
    if len(mask.shape) != rank:
        raise ValueError(
            f"`{name}` must have rank {rank} {axes}; received shape "
            f"{tuple(mask.shape)}."
        )
    return mask


def key_padding_mask(padding_mask, name, sequence, sequence_name):
    """`[B, Tk]` padding mask -> `[B, 1, Tk]` attention mask (None passes).

    Checks (statically) that the mask is `[batch, time]` of `sequence`.
    """
    if padding_mask is None:
        return None
    padding_mask = _mask_of_rank(padding_mask, name, 2, "[batch, time]")
    check_mask_broadcasts(
        name, padding_mask, tuple(sequence.shape[:2]), f"`{sequence_name}` [batch, time]"
    )
    return ops.expand_dims(ops.cast(padding_mask, "bool"), 1)


def check_attention_mask(attention_mask, name, query_shape, key_shape):
    """`[B, Tq, Tk]` mask: rank 3 and broadcastable to the attention shape."""
    if attention_mask is None:
        return None
    attention_mask = _mask_of_rank(
        attention_mask, name, 3, "[batch, query_time, key_time]"
    )
    target = (query_shape[0], query_shape[1], key_shape[1])
    check_mask_broadcasts(name, attention_mask, target, "[batch, query_time, key_time]")
    return attention_mask


class TransformerBlockBase(keras.layers.Layer):
    """What both Transformer blocks share: their arguments (validated and
    stored), attention/feed-forward/normalisation sublayers, the residual
    wrapping and the config."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        norm_first=False,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        validate_block_args(num_heads, intermediate_dim, dropout, layer_norm_epsilon)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = float(dropout)
        self.activation = keras.activations.get(activation)
        self.norm_first = bool(norm_first)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _check_inputs_shape(self, shape, name="inputs"):
        if len(shape) != 3:
            raise ValueError(
                f"`{name}` must have rank 3 [batch, time, features]; received "
                f"shape {tuple(shape)}."
            )

    def _attention_sublayer(self, prefix, attention_name, inputs_shape, source_shape):
        """A built `MultiHeadAttention` (heads of width D / num_heads) for
        `inputs_shape` attending `source_shape`, its LayerNorm and its residual
        Dropout: `(attention, norm, dropout)`, named after `prefix`."""
        from keras_seq.layers.multi_head_attention import MultiHeadAttention

        attention = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim(inputs_shape[-1], self.num_heads, "inputs"),
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=attention_name,
        )
        attention.build(inputs_shape, source_shape)
        norm = self._layer_norm(inputs_shape, f"{prefix}_layer_norm")
        dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name=f"{prefix}_dropout"
        )
        return attention, norm, dropout

    @staticmethod
    def _attend(attention, dropout, x, source, training, return_attention_scores, **options):
        """`x` attending `source`, then the residual dropout:
        `(outputs, scores or None, updated cache or None)`."""
        result = attention(
            x,
            source,
            return_attention_scores=return_attention_scores,
            training=training,
            **options,
        )
        result = result if isinstance(result, tuple) else (result,)
        scores = result[1] if return_attention_scores else None
        cache = result[-1] if options.get("cache") is not None else None
        return dropout(result[0], training=training), scores, cache

    def _build_feedforward(self, inputs_shape):
        width = inputs_shape[-1]
        self._feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_intermediate_dense",
        )
        self._feedforward_intermediate_dense.build(inputs_shape)
        self._feedforward_output_dense = keras.layers.Dense(
            width,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_output_dense",
        )
        self._feedforward_output_dense.build(
            tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        )
        self._feedforward_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="feedforward_dropout"
        )

    def _layer_norm(self, inputs_shape, name):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(inputs_shape)
        return norm

    def _residual(self, x, sublayer, norm, training):
        """x + sublayer(x) with pre- or post-normalisation; returns extras too."""
        residual = x
        if self.norm_first:
            x = normalize(norm, x)
        x, *extras = sublayer(x)
        x = x + residual
        if not self.norm_first:
            x = normalize(norm, x)
        return (x, *extras)

    def _feedforward(self, x, training):
        first, second = self._feedforward_intermediate_dense, self._feedforward_output_dense
        if plain_projections(first, second):
            # One 2-D matmul per Dense on `[B*T, D]`: the kernel gradient is a
            # single product (a 3-D Dense computes one per example and sums).
            shape = ops.shape(x)
            flat = ops.reshape(x, (-1, x.shape[-1]))
            if keras.backend.backend() == "tensorflow":
                # MatMul + BiasAdd (+ ReLU) fused into one oneDNN kernel.
                from keras_seq.ops._attention_tf import dense_2d

                relu = first.activation is keras.activations.relu
                flat = dense_2d(flat, *self._dense_weights(first), relu=relu)
                if not relu:
                    flat = first.activation(flat)
                flat = dense_2d(flat, *self._dense_weights(second))
            else:
                flat = first.activation(linear(flat, *self._dense_weights(first)))
                flat = linear(flat, *self._dense_weights(second))
            x = ops.reshape(flat, shape)
        else:
            x = second(first(x))
        return (self._feedforward_dropout(x, training=training),)

    def _dense_weights(self, dense):
        kernel = ops.cast(dense.kernel, self.compute_dtype)
        bias = None if dense.bias is None else ops.cast(dense.bias, self.compute_dtype)
        return kernel, bias

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "activation": keras.activations.serialize(self.activation),
            "norm_first": self.norm_first,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        })
        return config
