"""Word vectors end to end: train word2vec or GloVe on the embedded corpus
(or your own text), evaluate them on analogies and word-pair similarity,
query them, measure and remove gender bias, and export them to the
TensorBoard projector. See `applications.word_vectors.app`.
"""
