"""Sentence classification from pretrained word vectors: the seed's averaged
embeddings + softmax against a 2-layer masked LSTM, on generated Emojify-style
sentences with seen, unseen-word and negation test splits (or your CSV/TSV or
IMDB data). See `applications.sentiment.app`.

    python -m applications.sentiment train --size default
    python -m applications.sentiment predict "i am not happy" --model sentiment_lstm.keras
"""

from applications.contract import Application, Option, Size, cache_option

MODELS = ("average", "lstm")

# `vector_epochs`/`vector_size`: the word2vec vectors trained on the embedded
# Wikipedia extract when no --vectors file is given.
SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores): LSTM right on negations, averaging near chance there", train_examples=3000, epochs=20, batch_size=64, units=32, vector_epochs=1, vector_size=50),
    "default": Size("for RESULTS.md (~75 s on 2 cores): LSTM 100% seen / 55% unseen keywords / 100% negation", train_examples=10000, epochs=20, batch_size=64, units=64, vector_epochs=5, vector_size=100),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=1000, inputs_help="sentences to classify", data_help="a CSV/TSV text,label file or an IMDB folder (neg/, pos/); 10%% held out", model_file="sentiment_lstm.keras", output_file="sentiment.keras", echo_inputs=True,
    options=[
        Option("--vectors", metavar="PATH",
               help="pretrained vectors (GloVe .txt, word2vec .vec/.bin); default: word2vec trained on the embedded "
                    "Wikipedia extract (cached)"),
        Option("--fine-tune", dest="trainable", action="store_true", help="train the embeddings too"),
        cache_option("the default word vectors", "sentiment", commands=("train",)),
    ],
)  # fmt: skip
