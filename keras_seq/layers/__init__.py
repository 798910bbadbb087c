"""keras_seq layers: positional encodings, masks, attention, Transformer blocks."""

from keras_seq.layers.adapter import Adapter, freeze_except_adapters
from keras_seq.layers.bahdanau_attention import BahdanauAttention
from keras_seq.layers.chunked_feed_forward import ChunkedFeedForward
from keras_seq.layers.ctc_loss import CTCLoss
from keras_seq.layers.lsh_self_attention import LSHSelfAttention
from keras_seq.layers.masks import causal_mask, padding_mask
from keras_seq.layers.multi_head_attention import MultiHeadAttention
from keras_seq.layers.position_embedding import PositionEmbedding
from keras_seq.layers.reversible import ReversibleBlock, ReversibleSequence
from keras_seq.layers.scaled_dot_product_attention import ScaledDotProductAttention
from keras_seq.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_seq.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "Adapter",
    "BahdanauAttention",
    "ChunkedFeedForward",
    "CTCLoss",
    "LSHSelfAttention",
    "MultiHeadAttention",
    "PositionEmbedding",
    "ReversibleBlock",
    "ReversibleSequence",
    "ScaledDotProductAttention",
    "SinusoidalPositionEncoding",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "causal_mask",
    "freeze_except_adapters",
    "padding_mask",
]
