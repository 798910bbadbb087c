"""WordPiece vocabularies and tokenizers, through keras-hub and tensorflow-text.

keras-hub is imported inside the functions that need it (it takes ~0.7 s to
import); `keras_seq.text.WordPieceTokenizer` tokenizes without it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import tensorflow as tf

from keras_seq._validation import check_bools, check_positive_ints

if TYPE_CHECKING:
    import keras_hub

DEFAULT_RESERVED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_BRACKETED = re.compile(r"^\[[^\[\]\s]+\]$")


def _check_splitting(suffix_indicator, **flags):
    """The word-splitting options both functions share: boolean `flags` and a
    non-empty `suffix_indicator`."""
    check_bools(flags)
    if not isinstance(suffix_indicator, str) or not suffix_indicator:
        raise ValueError(
            f"`suffix_indicator` must be a non-empty string; got {suffix_indicator!r}."
        )


def _checked_tokenizer_arguments(
    vocabulary, sequence_length, suffix_indicator, oov_token, **flags
) -> list[str]:
    """Checks what `wordpiece_tokenizer` and `WordPieceTokenizer` take; returns
    the vocabulary as a list of tokens."""
    tokens = _read_vocabulary(vocabulary)
    check_positive_ints({"sequence_length": sequence_length}, allow_none=True)
    _check_splitting(suffix_indicator, **flags)
    if not isinstance(oov_token, str) or oov_token not in tokens:
        raise ValueError(
            f"`oov_token` {oov_token!r} must be in the vocabulary (it is the id "
            "of words that cannot be tokenized)."
        )
    return tokens


def train_wordpiece(
    texts: Iterable[str] | tf.data.Dataset,
    vocabulary_size: int,
    lowercase: bool = True,
    reserved_tokens: Sequence[str] = DEFAULT_RESERVED_TOKENS,
    strip_accents: bool = False,
    split_on_cjk: bool = True,
    suffix_indicator: str = "##",
) -> list[str]:
    """Learns a WordPiece vocabulary from a corpus.

    A thin, validated wrapper around
    `keras_hub.tokenizers.compute_word_piece_vocabulary`, which runs
    tensorflow-text's WordPiece learner entirely offline. Texts are split on
    whitespace and punctuation exactly as `wordpiece_tokenizer` splits them.

    The reserved tokens come first, in the order given, so with the default
    ``[PAD]`` has id 0 (what `keras_seq` masks treat as padding), ``[UNK]`` 1,
    ``[CLS]`` 2, ``[SEP]`` 3 and ``[MASK]`` 4. Every character of the corpus
    gets a token (and a ``##``-suffix token); the learner then adds the
    frequent word pieces. It only considers pieces seen at least 10 times
    (tensorflow-text's default threshold), so a small corpus yields mostly
    characters, and the vocabulary may be smaller than `vocabulary_size`.

    Args:
        texts: The corpus: a list (any iterable) of strings, or a
            `tf.data.Dataset` of string tensors.
        vocabulary_size: The largest vocabulary size, reserved tokens
            included.
        lowercase: Whether to lower-case texts first. Use the same value for
            `wordpiece_tokenizer`. Defaults to `True`.
        reserved_tokens: Tokens placed first, in this order; the first one has
            id 0 and serves as padding. Defaults to ``("[PAD]", "[UNK]",
            "[CLS]", "[SEP]", "[MASK]")``.
        strip_accents: Whether to strip accents. Defaults to `False`.
        split_on_cjk: Whether to split CJK characters into separate words.
            Defaults to `True`.
        suffix_indicator: The prefix marking a word-continuation piece.
            Defaults to `"##"`.

    Returns:
        The vocabulary, a list of strings in id order.

    Raises:
        ValueError: If an argument is invalid or `texts` is empty.

    Example:

    >>> from keras_seq.text import train_wordpiece
    >>> vocab = train_wordpiece(["the cat sat", "the hat"] * 10, 40)
    >>> vocab[:5]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    >>> vocab[5:]
    ['a', 'c', 'e', 'h', 's', 't', 'the', 'cat', 'hat', 'sat', '##a', '##c', '##e', '##h', '##s', '##t']
    """
    reserved = _check_reserved_tokens(reserved_tokens)
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, int)
        or vocabulary_size <= len(reserved)
    ):
        raise ValueError(
            "`vocabulary_size` must be an integer larger than the number of "
            f"reserved tokens ({len(reserved)}); got {vocabulary_size!r}."
        )
    _check_splitting(
        suffix_indicator,
        lowercase=lowercase,
        strip_accents=strip_accents,
        split_on_cjk=split_on_cjk,
    )
    import keras_hub

    dataset = _as_text_dataset(texts)
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        dataset,
        vocabulary_size,
        lowercase=lowercase,
        strip_accents=strip_accents,
        split=True,
        split_on_cjk=split_on_cjk,
        suffix_indicator=suffix_indicator,
        reserved_tokens=list(reserved),
    )
    if vocabulary[: len(reserved)] != list(reserved):  # a learner invariant
        raise RuntimeError(
            "The WordPiece learner did not put the reserved tokens first: "
            f"{vocabulary[: len(reserved)]}."
        )
    return vocabulary


def wordpiece_tokenizer(
    vocabulary: Sequence[str] | str | os.PathLike,
    sequence_length: int | None = None,
    lowercase: bool = True,
    strip_accents: bool = False,
    split_on_cjk: bool = True,
    suffix_indicator: str = "##",
    oov_token: str = "[UNK]",
    special_tokens_in_strings: bool = False,
) -> keras_hub.tokenizers.WordPieceTokenizer:
    """Builds a keras-hub `WordPieceTokenizer` for a WordPiece vocabulary.

    A word that cannot be assembled from the vocabulary's pieces (e.g. one
    holding a character never seen in training) becomes a single `oov_token`.
    With `sequence_length` the output is dense and padded with id 0 (so keep
    the padding token, ``[PAD]``, at id 0); without it, a batch gives a ragged
    tensor. ``detokenize`` joins pieces back into words with single spaces and
    renders every id, padding included.

    Args:
        vocabulary: A list of tokens in id order (e.g. from
            `train_wordpiece`) or the path of a file with one token a line.
        sequence_length: Pad or truncate outputs to this length. Defaults to
            `None` (no padding).
        lowercase: Whether to lower-case texts; match `train_wordpiece`.
            Defaults to `True`.
        strip_accents: Whether to strip accents. Defaults to `False`.
        split_on_cjk: Whether to split CJK characters. Defaults to `True`.
        suffix_indicator: The word-continuation prefix. Defaults to `"##"`.
        oov_token: The token for words that cannot be tokenized; must be in
            the vocabulary. Defaults to `"[UNK]"`.
        special_tokens_in_strings: Whether bracketed vocabulary tokens such as
            ``[CLS]`` written in the input text are kept whole as their ids.
            Defaults to `False` (they are split like any text).

    Returns:
        A `keras_hub.tokenizers.WordPieceTokenizer` (importing keras-hub
        takes ~0.7 s; `keras_seq.text.WordPieceTokenizer` takes the same
        arguments, gives the same ids and text, and imports neither
        keras-hub nor, outside `tf.data`, tensorflow-text).

    Raises:
        ValueError: If an argument is invalid, ``[PAD]`` is present but not at
            id 0, or `oov_token` is not in the vocabulary.

    Example:

    >>> from keras_seq.text import wordpiece_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
    ...          "s", "##at"]
    >>> tokenizer = wordpiece_tokenizer(vocab, sequence_length=6)
    >>> ids = tokenizer(["The cat sat", "the dog"])
    >>> [[int(i) for i in row] for row in ids]
    [[5, 6, 7, 8, 0, 0], [5, 1, 0, 0, 0, 0]]
    >>> tokenizer.detokenize(ids[1])
    'the [UNK] [PAD] [PAD] [PAD] [PAD]'
    >>> ragged = wordpiece_tokenizer(vocab)  # no padding to strip
    >>> ragged.detokenize(ragged("the cat sat"))
    'the cat sat'
    """
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
    import keras_hub

    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=tokens,
        sequence_length=sequence_length,
        lowercase=lowercase,
        strip_accents=strip_accents,
        split=True,
        split_on_cjk=split_on_cjk,
        suffix_indicator=suffix_indicator,
        oov_token=oov_token,
        special_tokens=[token for token in tokens if _BRACKETED.match(token)] or None,
        special_tokens_in_strings=special_tokens_in_strings,
    )


def _check_reserved_tokens(reserved_tokens) -> tuple[str, ...]:
    if isinstance(reserved_tokens, str) or not isinstance(reserved_tokens, Iterable):
        raise ValueError(
            f"`reserved_tokens` must be a list of strings; got {reserved_tokens!r}."
        )
    reserved = tuple(reserved_tokens)
    if not reserved:
        raise ValueError(
            "`reserved_tokens` must not be empty: its first token is the padding "
            "token with id 0."
        )
    for token in reserved:
        if not isinstance(token, str) or not token or token != token.strip():
            raise ValueError(
                "`reserved_tokens` must hold non-empty strings without surrounding "
                f"whitespace; got {token!r}."
            )
    if len(set(reserved)) != len(reserved):
        raise ValueError(f"`reserved_tokens` must not repeat; got {list(reserved)}.")
    if "[PAD]" in reserved and reserved[0] != "[PAD]":
        raise ValueError(
            "`reserved_tokens` must start with '[PAD]' when it contains it (padding "
            f"has id 0); got {list(reserved)}."
        )
    return reserved


def _as_text_dataset(texts) -> tf.data.Dataset:
    if isinstance(texts, tf.data.Dataset):
        if texts.element_spec.dtype != tf.string:
            raise ValueError(
                "`texts` must be a dataset of strings; got elements "
                f"{texts.element_spec}."
            )
        return texts
    if isinstance(texts, str | bytes) or not isinstance(texts, Iterable):
        raise ValueError(
            f"`texts` must be a list of strings or a tf.data.Dataset; got {texts!r}."
        )
    texts = list(texts)
    if not texts:
        raise ValueError("`texts` must not be empty.")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"`texts` must contain only strings; item {index} is {text!r}."
            )
    # A Python list would be read as file names by keras-hub: wrap it.
    return tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))


def _read_vocabulary(vocabulary) -> list[str]:
    if isinstance(vocabulary, str | os.PathLike):
        try:
            with open(vocabulary, encoding="utf-8") as handle:
                tokens = [line.rstrip("\n") for line in handle]
        except OSError as error:
            raise ValueError(
                f"`vocabulary` file {os.fspath(vocabulary)!r} cannot be read: {error}"
            ) from error
        while tokens and not tokens[-1]:
            tokens.pop()
    elif isinstance(vocabulary, Iterable):
        tokens = list(vocabulary)
    else:
        raise ValueError(
            "`vocabulary` must be a list of tokens or a vocabulary file path; got "
            f"{vocabulary!r}."
        )
    if not tokens:
        raise ValueError("`vocabulary` must not be empty.")
    for index, token in enumerate(tokens):
        if not isinstance(token, str) or not token:
            raise ValueError(
                f"`vocabulary` must hold non-empty strings; entry {index} is {token!r}."
            )
    if len(set(tokens)) != len(tokens):
        raise ValueError("`vocabulary` must not contain duplicate tokens.")
    if "[PAD]" in tokens and tokens[0] != "[PAD]":
        raise ValueError(
            f"`vocabulary` must have '[PAD]' at id 0 (padding); it is at id "
            f"{tokens.index('[PAD]')}."
        )
    return tokens
