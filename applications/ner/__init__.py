"""Named-entity recognition (seed 15.1): BIO tags for persons, organisations
and locations from a BiLSTM over word, word-shape and character features.

Trained on faker-filled news sentences (`applications.ner.data`), scored by
entity-level F1 (`applications.ner.scoring`, equal to seqeval's default
mode) on sentences whose entities were never seen and on sentence templates
never seen; real data from CoNLL-2003 files or the GMB ``ner_dataset.csv``.

    python -m applications.ner train --size fast
    python -m applications.ner predict "Dr. Ann Quist flew to Oslo to meet executives from Quist Motors ."
"""
