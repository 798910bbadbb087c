"""Sentence classification from pretrained word vectors: the seed's averaged
embeddings + softmax against a 2-layer masked LSTM, on generated Emojify-style
sentences with seen, unseen-word and negation test splits (or your CSV/TSV or
IMDB data). See `applications.sentiment.app`.
"""
