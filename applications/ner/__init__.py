"""Named-entity recognition (seed 15.1): BIO tags for persons, organisations
and locations from a BiLSTM over word, word-shape and character features.

Trained on faker-filled news sentences (`applications.ner.data`), scored by
entity-level F1 (`applications.ner.scoring`, equal to seqeval's default
mode) on sentences whose entities were never seen and on sentence templates
never seen; real data from CoNLL-2003 files or the GMB ``ner_dataset.csv``.

    python -m applications.ner train --size fast
    python -m applications.ner predict "Dr. Ann Quist flew to Oslo to meet executives from Quist Motors ."
"""

from applications.contract import Application, Size

SIZES = {
    "fast": Size("what the test suite trains (~25 s on 2 cores): F1 0.99 on unseen entities, 0.73 on unseen templates", train_examples=3_000, epochs=6, batch_size=32, word_dim=48, units=64, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~4 min on 2 cores): F1 0.99 on unseen entities, 0.76 on unseen templates", train_examples=20_000, epochs=8, batch_size=64, word_dim=64, units=128, learning_rate=2e-3),
}  # fmt: skip

APP = Application(__name__, SIZES, eval_examples=1000, inputs_help="sentences to tag", data_help="a CoNLL file ('token TAG' or CoNLL-2003 'token POS chunk TAG' lines) or the GMB ner_dataset.csv")
