"""Text utilities: vocabularies and teacher-forcing helpers.

Example:

>>> from keras_seq.text import Vocabulary, shift_right
>>> vocab = Vocabulary.build(["abc"])
>>> ids = vocab.encode(["abc"], add_eos=True)
>>> shift_right(ids, vocab.sos_id).tolist()
[[2, 4, 5, 6]]
"""

from keras_seq.text.teacher_forcing import shift_right
from keras_seq.text.vocabulary import Vocabulary

__all__ = ["Vocabulary", "shift_right"]
