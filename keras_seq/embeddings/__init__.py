"""Word embeddings: word2vec, GloVe, word-vector queries, debiasing, file
formats and the TensorBoard projector (seed sections 5-7)."""

from keras_seq.embeddings.corpus import (
    data_path,
    embedded_corpus,
    read_corpus,
    tokenize,
)
from keras_seq.embeddings.debiasing import bias_direction, debias, equalize, neutralize
from keras_seq.embeddings.glove import GloVe
from keras_seq.embeddings.word2vec import Word2Vec
from keras_seq.embeddings.word_vectors import WordVectors, cosine_similarity

__all__ = [
    "GloVe",
    "Word2Vec",
    "WordVectors",
    "bias_direction",
    "cosine_similarity",
    "data_path",
    "debias",
    "embedded_corpus",
    "equalize",
    "neutralize",
    "read_corpus",
    "tokenize",
]
