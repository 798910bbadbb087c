"""Text utilities: vocabularies, teacher forcing, BERT-style pre-training data.

Example:

>>> from keras_seq.text import Vocabulary, shift_right
>>> vocab = Vocabulary.build(["abc"])
>>> ids = vocab.encode(["abc"], add_eos=True)
>>> shift_right(ids, vocab.sos_id).tolist()
[[2, 4, 5, 6]]
"""

from keras_seq.text.masking import mlm_mask
from keras_seq.text.sentence_pairs import nsp_pairs
from keras_seq.text.teacher_forcing import shift_right
from keras_seq.text.vocabulary import Vocabulary
from keras_seq.text.wordpiece import train_wordpiece, wordpiece_tokenizer

__all__ = [
    "Vocabulary",
    "mlm_mask",
    "nsp_pairs",
    "shift_right",
    "train_wordpiece",
    "wordpiece_tokenizer",
]
