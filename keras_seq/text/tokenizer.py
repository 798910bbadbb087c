"""`WordPieceTokenizer`: keras-hub's WordPiece tokenizer without importing keras-hub.

Importing keras-hub costs about 0.7 s and tensorflow-text about 0.15 s, which
is most of what an application's `predict` command spends beyond importing
TensorFlow. This layer gives the same ids and detokenized text as
`keras_hub.tokenizers.WordPieceTokenizer` (tested against it on a varied
corpus) while importing neither when it is called eagerly: eager calls run
the WordPiece algorithm in Python, as keras-hub's own eager path does. Inside a
`tf.function` or a `tf.data` pipeline it runs tensorflow-text's ops (the same
ones keras-hub uses), imported on that first graph call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from keras_seq.text._tokenizer_inputs import _python_ids, _python_strings

# Where words split, in RE2 syntax for the graph path (tensorflow-text) and
# in the `regex` module's syntax for the eager path. RE2's `\s` is ASCII
# whitespace only, hence the explicit class on the Python side.
_PUNCTUATION = r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]"
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
_RE2_WHITESPACE = r"\s|\p{Cc}|\p{Cf}"
_RE2_CJK = "|".join(f"[\\x{{{lo:X}}}-\\x{{{hi:X}}}]" for lo, hi in _CJK_RANGES)
_PY_WHITESPACE = r"[ \t\n\r\f]|\p{Cc}|\p{Cf}"
_PY_CJK = "|".join(f"[{chr(lo)}-{chr(hi)}]" for lo, hi in _CJK_RANGES)

# Words longer than this many UTF-8 bytes become the out-of-vocabulary token
# (tensorflow-text's and keras-hub's limit).
MAX_BYTES_PER_WORD = 100

# Code points that NFKC_Casefold (tensorflow-text's `case_fold_utf8`) deletes:
# Unicode's Default_Ignorable_Code_Point set.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE_CLASS = (
    "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _DEFAULT_IGNORABLE) + "]"
)
_IGNORABLE = re.compile(_IGNORABLE_CLASS)
_BRACKETED = re.compile(r"^\[[^\[\]\s]+\]$")


def _case_fold(text: str) -> str:
    """NFKC_Casefold in Python: NFKC, full case folding, NFKC again (folding
    can decompose), without default-ignorable code points."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _IGNORABLE.sub("", text)


def _strip_accents(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class WordPieceTokenizer(keras.layers.Layer):
    """WordPiece tokenizer layer, equal to keras-hub's, that imports neither
    keras-hub nor (when called eagerly) tensorflow-text.

    The text is pre-tokenized as BERT and
    `keras_hub.tokenizers.WordPieceTokenizer` do: accents optionally stripped
    (NFD, then combining marks removed), split on whitespace, control and
    format characters and punctuation, punctuation (and, with
    `split_on_cjk`, each CJK ideograph) kept as a word of its own, then
    optionally lower-cased with Unicode NFKC case folding. Each word then
    becomes its longest vocabulary prefix followed by the longest
    `suffix_indicator`-prefixed pieces, left to right; a word that cannot be
    assembled from the vocabulary, or longer than 100 UTF-8 bytes, becomes
    one `oov_token`. With `special_tokens_in_strings`, every bracketed
    vocabulary token (``[CLS]``, ``[SEP]``, ...) written in the text is kept
    whole and not lower-cased.

    Eager calls run in Python and return what keras-hub's eager calls return:
    for one string a NumPy `int32` vector, for a list (or rank-1 tensor) of
    strings a list of id lists, or, with `sequence_length`, a NumPy
    `[batch, sequence_length]` array padded with id 0 and truncated. Inside a
    `tf.function` or `tf.data` pipeline (and eagerly for ragged or higher-rank
    inputs) it runs tensorflow-text's ops and returns a `tf.RaggedTensor`
    (a dense `tf.Tensor` with `sequence_length`). `detokenize` joins pieces
    back into words with single spaces and renders every id, padding
    included.

    The vocabulary is part of `get_config`, so the layer round-trips through
    `from_config` and `.keras` files without asset files.

    Args:
        vocabulary: The tokens, a list of strings in id order, or the path of
            a file with one token a line.
        sequence_length: Pad or truncate outputs to this length. Defaults to
            `None` (no padding).
        lowercase: Whether to lower-case texts. Defaults to `True`.
        strip_accents: Whether to strip accents. Defaults to `False`.
        split_on_cjk: Whether to split CJK ideographs into words of their
            own. Defaults to `True`.
        suffix_indicator: The prefix marking a word-continuation piece.
            Defaults to `"##"`.
        oov_token: The token of words that cannot be tokenized; must be in
            the vocabulary. Defaults to `"[UNK]"`.
        special_tokens_in_strings: Whether bracketed vocabulary tokens written
            in the text are kept whole as their ids. Defaults to `False`.
        **kwargs: Standard layer arguments (`name`, ...).

    Call arguments:
        inputs: A string, a list of strings, or a string tensor.

    Returns:
        The token ids (see above).

    Raises:
        ValueError: If an argument is invalid, ``[PAD]`` is in the vocabulary
            but not at id 0, `oov_token` is not in the vocabulary, or an input
            is not text.

    Example:

    >>> from keras_seq.text import WordPieceTokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
    ...          "s", "##at", "."]
    >>> tokenizer = WordPieceTokenizer(vocab, sequence_length=6)
    >>> tokenizer(["The cat sat.", "the dog"]).tolist()
    [[5, 6, 7, 8, 9, 0], [5, 1, 0, 0, 0, 0]]
    >>> tokenizer.detokenize([5, 1, 0])
    'the [UNK] [PAD]'
    >>> WordPieceTokenizer(vocab)(["the cat", "sat"])
    [[5, 6], [7, 8]]

    References:
        - Schuster and Nakajima, 2012, Japanese and Korean voice search.
        - Devlin et al., 2019, BERT (the pre-tokenization).
    """

    def __init__(
        self,
        vocabulary: Sequence[str] | str,
        sequence_length: int | None = None,
        lowercase: bool = True,
        strip_accents: bool = False,
        split_on_cjk: bool = True,
        suffix_indicator: str = "##",
        oov_token: str = "[UNK]",
        special_tokens_in_strings: bool = False,
        **kwargs,
    ):
        # Imported here: `wordpiece` imports this module.
        from keras_seq.text.wordpiece import _checked_tokenizer_arguments

        kwargs.pop("dtype", None)  # the ids are always int32
        super().__init__(dtype="int32", **kwargs)
        tokens = _checked_tokenizer_arguments(
            vocabulary,
            sequence_length,
            suffix_indicator,
            oov_token,
            lowercase=lowercase,
            strip_accents=strip_accents,
            split_on_cjk=split_on_cjk,
            special_tokens_in_strings=special_tokens_in_strings,
        )
        self.vocabulary = tokens
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.split_on_cjk = split_on_cjk
        self.suffix_indicator = suffix_indicator
        self.oov_token = oov_token
        self.special_tokens_in_strings = special_tokens_in_strings
        self.special_tokens = [token for token in tokens if _BRACKETED.match(token)]
        self._ids = {token: index for index, token in enumerate(tokens)}
        self._oov_id = self._ids[oov_token]
        self._python_patterns = None
        self._fast_wordpiece = None
        # Strings, lists and tf.data tensors go to `call` as they are.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    # -- vocabulary ------------------------------------------------------------

    def get_vocabulary(self) -> list[str]:
        """The tokens in id order."""
        return list(self.vocabulary)

    def vocabulary_size(self) -> int:
        """The number of tokens."""
        return len(self.vocabulary)

    def token_to_id(self, token: str) -> int:
        """The id of `token`."""
        if token not in self._ids:
            raise ValueError(f"`token` {token!r} is not in the vocabulary.")
        return self._ids[token]

    def id_to_token(self, id: int) -> str:  # noqa: A002 (keras-hub's name)
        """The token of `id`."""
        if (
            isinstance(id, bool)
            or not isinstance(id, int | np.integer)
            or not 0 <= id < len(self.vocabulary)
        ):
            raise ValueError(
                f"`id` must be an integer in [0, {len(self.vocabulary) - 1}]; got {id!r}."
            )
        return self.vocabulary[int(id)]

    # -- tokenize ---------------------------------------------------------------

    def call(self, inputs):
        return self.tokenize(inputs)

    def tokenize(self, inputs):
        """The ids of `inputs` (see the class documentation for the types)."""
        if tf.executing_eagerly():
            texts = _python_strings(inputs)
            if texts is not None:
                return self._tokenize_python(*texts)
        return self._tokenize_graph(inputs)

    def _split_patterns(self):
        """The compiled `(delimiter, kept delimiter)` patterns of the eager path."""
        if self._python_patterns is None:
            import regex  # keras-hub's dependency: Unicode classes such as \p{P}

            delimiter = f"{_PY_WHITESPACE}|{_PUNCTUATION}"
            kept = _PUNCTUATION
            if self.split_on_cjk:
                delimiter, kept = f"{delimiter}|{_PY_CJK}", f"{kept}|{_PY_CJK}"
            special = self._special_pattern()
            if special:
                delimiter, kept = f"{special}|{delimiter}", f"{special}|{kept}"
            self._python_patterns = regex.compile(delimiter), regex.compile(kept)
        return self._python_patterns

    def _special_pattern(self):
        if not (self.special_tokens_in_strings and self.special_tokens):
            return None
        return "|".join(re.escape(token) for token in self.special_tokens)

    def _words(self, text: str) -> list[str]:
        if self.strip_accents:
            text = _strip_accents(text)
        delimiter, kept = self._split_patterns()
        words, start = [], 0
        for match in delimiter.finditer(text):
            if match.start() > start:
                words.append(text[start : match.start()])
            if kept.fullmatch(match.group()):
                words.append(match.group())
            start = match.end()
        if start < len(text):
            words.append(text[start:])
        if self.lowercase:
            special = set(self.special_tokens) if self._special_pattern() else ()
            words = [word if word in special else _case_fold(word) for word in words]
        return words

    def _word_ids(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece of one word."""
        if not word:
            return []
        if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
            return [self._oov_id]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = (
                    word[start:end]
                    if start == 0
                    else self.suffix_indicator + word[start:end]
                )
                if piece in self._ids:
                    ids.append(self._ids[piece])
                    start = end
                    break
            else:
                return [self._oov_id]
        return ids

    def _tokenize_python(self, texts, batched):
        rows = [
            [i for word in self._words(text) for i in self._word_ids(word)]
            for text in texts
        ]
        if self.sequence_length:
            length = self.sequence_length
            dense = np.array(
                [row[:length] + [0] * (length - len(row[:length])) for row in rows],
                "int32",
            )
            return dense if batched else dense[0]
        return rows if batched else np.array(rows[0], "int32")

    def _fast(self):
        if self._fast_wordpiece is None:
            import tensorflow_text

            # Built outside any tf.function / tf.data trace, so later eager
            # and graph calls can share it.
            with tf.init_scope():
                self._fast_wordpiece = tensorflow_text.FastWordpieceTokenizer(
                    vocab=self.vocabulary,
                    suffix_indicator=self.suffix_indicator,
                    unknown_token=self.oov_token,
                    token_out_type=tf.int32,
                    no_pretokenization=True,
                    support_detokenization=True,
                )
        return self._fast_wordpiece

    def _tokenize_graph(self, inputs):
        import tensorflow_text

        fast = self._fast()
        with tf.device("cpu"):
            if not isinstance(inputs, tf.RaggedTensor):
                inputs = tf.convert_to_tensor(inputs)
            if inputs.dtype != tf.string:
                raise ValueError(
                    f"`inputs` must be strings; got a tensor of {inputs.dtype.name}."
                )
            scalar = inputs.shape.rank == 0
            text = tf.expand_dims(inputs, 0) if scalar else inputs
            delimiter, kept = f"{_RE2_WHITESPACE}|{_PUNCTUATION}", _PUNCTUATION
            if self.split_on_cjk:
                # Ideographs become words of their own.
                text = tf.strings.regex_replace(text, _RE2_CJK, r" \0 ")
                delimiter, kept = f"{delimiter}|{_RE2_CJK}", f"{kept}|{_RE2_CJK}"
            if self.strip_accents:
                text = tf.strings.regex_replace(
                    tensorflow_text.normalize_utf8(text, "NFD"), r"\p{Mn}", ""
                )
            special = self._special_pattern()
            if special:
                delimiter, kept = f"{special}|{delimiter}", f"{special}|{kept}"
            words = tensorflow_text.regex_split(
                text, delim_regex_pattern=delimiter, keep_delim_regex_pattern=kept
            )
            if self.lowercase:
                folded = tensorflow_text.case_fold_utf8(words)
                if special:
                    folded = tf.ragged.map_flat_values(
                        lambda w, f: tf.where(
                            tf.strings.regex_full_match(w, special), w, f
                        ),
                        words,
                        folded,
                    )
                words = folded
            ids = fast.tokenize(words).merge_dims(-2, -1)
            if self.sequence_length:
                shape = ids.shape.as_list()
                shape[-1] = self.sequence_length
                ids = ids.to_tensor(shape=shape)
            if scalar:
                ids = tf.squeeze(ids, 0)
            return ids

    # -- detokenize -------------------------------------------------------------

    def detokenize(self, inputs):
        """The text of ids: pieces joined into words, words joined with single
        spaces. One row (a vector or list of ids) gives a string, a batch a
        list of strings (inside a graph: string tensors)."""
        if not tf.executing_eagerly():
            return self._detokenize_graph(inputs)
        rows, batched = _python_ids(inputs)
        suffix = self.suffix_indicator
        texts = []
        for row in rows:
            words = []
            for index, id_ in enumerate(row):
                token = self.id_to_token(id_)
                if index > 0 and len(token) > len(suffix) and token.startswith(suffix):
                    words[-1] += token[len(suffix) :]
                else:
                    words.append(token)
            texts.append(" ".join(words))
        return texts if batched else texts[0]

    def _detokenize_graph(self, inputs):
        fast = self._fast()
        with tf.device("cpu"):
            if not isinstance(inputs, tf.RaggedTensor):
                inputs = tf.convert_to_tensor(inputs)
            single = inputs.shape.rank == 1
            if single:
                inputs = tf.expand_dims(inputs, 0)
            if not isinstance(inputs, tf.RaggedTensor):
                inputs = tf.RaggedTensor.from_tensor(inputs)
            texts = fast.detokenize(tf.cast(inputs, tf.int32))
            return tf.squeeze(texts, 0) if single else texts

    # -- Keras -------------------------------------------------------------------

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(
            tuple(inputs.shape) + (self.sequence_length,), dtype="int32"
        )

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
                "strip_accents": self.strip_accents,
                "split_on_cjk": self.split_on_cjk,
                "suffix_indicator": self.suffix_indicator,
                "oov_token": self.oov_token,
                "special_tokens_in_strings": self.special_tokens_in_strings,
            }
        )
        return config

