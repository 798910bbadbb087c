"""Character- and word-level vocabularies with reserved special tokens."""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterable, Sequence

import numpy as np

from keras_seq._validation import id_array

_LEVELS = ("char", "word")


class Vocabulary:
    """A token <-> id mapping for character- or word-level sequence models.

    The four reserved tokens always come first, with fixed ids:

    ========  ===
    token     id
    ========  ===
    ``<pad>``  0
    ``<unk>``  1
    ``<sos>``  2
    ``<eos>``  3
    ========  ===

    The regular tokens follow in the order given, starting at id 4. Tokens that
    are not in the vocabulary are encoded as ``<unk>``.

    At the ``"char"`` level a text is split into its characters; at the
    ``"word"`` level it is split on runs of whitespace. With ``lowercase=True``
    texts (and tokens looked up with `token_to_id`) are lower-cased first.

    Args:
        tokens: The regular tokens (without the reserved ones), in id order.
            At the char level every token must be a single character; at the
            word level tokens must not contain whitespace. Tokens must not
            repeat. Defaults to no regular tokens.
        level: ``"char"`` or ``"word"``.
        lowercase: Whether to lower-case texts before tokenizing them.

    Raises:
        ValueError: If an argument is invalid.

    Example:

    >>> from keras_seq.text import Vocabulary
    >>> vocab = Vocabulary.build(["hello", "world"])
    >>> vocab.tokens[4:]
    ['l', 'o', 'd', 'e', 'h', 'r', 'w']
    >>> len(vocab)
    11
    >>> ids = vocab.encode("hold", max_length=6, add_sos=True, add_eos=True)
    >>> ids.tolist()
    [2, 8, 5, 4, 6, 3]
    >>> vocab.decode(ids)
    'hold'
    >>> vocab.encode(["he", "low"], add_eos=True).tolist()
    [[8, 7, 3, 0], [4, 5, 10, 3]]
    >>> vocab.decode(vocab.encode("hex"))
    'he<unk>'
    """

    PAD = 0
    UNK = 1
    SOS = 2
    EOS = 3
    RESERVED_TOKENS = ("<pad>", "<unk>", "<sos>", "<eos>")

    def __init__(
        self,
        tokens: Iterable[str] | None = None,
        level: str = "char",
        lowercase: bool = False,
    ):
        if level not in _LEVELS:
            raise ValueError(f'`level` must be "char" or "word"; got {level!r}.')
        if not isinstance(lowercase, bool):
            raise ValueError(
                f"`lowercase` must be a bool (True or False); got {lowercase!r}."
            )
        if tokens is None:
            tokens = []
        if isinstance(tokens, str) or not isinstance(tokens, Iterable):
            raise ValueError(
                "`tokens` must be a list of strings (the regular tokens, "
                f"without the reserved ones); got {tokens!r}."
            )
        tokens = list(tokens)
        reserved = set(self.RESERVED_TOKENS)
        seen = set()
        for index, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(
                    "`tokens` must contain only non-empty strings; "
                    f"tokens[{index}] is {token!r}."
                )
            if token in reserved:
                raise ValueError(
                    f"`tokens` must not contain the reserved token {token!r}; "
                    f"the reserved tokens {list(self.RESERVED_TOKENS)} are "
                    "always added automatically with ids 0-3."
                )
            if level == "char" and len(token) != 1:
                raise ValueError(
                    "`tokens` must be single characters when level='char'; "
                    f"tokens[{index}] is {token!r}."
                )
            if level == "word" and len(token.split()) != 1:
                raise ValueError(
                    "`tokens` must not contain whitespace when level='word'; "
                    f"tokens[{index}] is {token!r}."
                )
            if token in seen:
                raise ValueError(
                    f"`tokens` must not repeat; {token!r} appears more than once."
                )
            seen.add(token)
        self._level = level
        self._lowercase = lowercase
        self._id_to_token = list(self.RESERVED_TOKENS) + tokens
        self._token_to_id = {tok: i for i, tok in enumerate(self._id_to_token)}

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        level: str = "char",
        min_count: int = 1,
        max_size: int | None = None,
        lowercase: bool = False,
    ) -> Vocabulary:
        """Builds a vocabulary from the tokens of a corpus.

        Tokens are ordered by decreasing count, ties broken by the token
        itself, so the result does not depend on the order of `texts`.
        Occurrences of the reserved tokens in the texts are ignored.

        Args:
            texts: An iterable of strings.
            level: ``"char"`` or ``"word"``.
            min_count: Keep only tokens seen at least this many times (>= 1).
            max_size: The largest vocabulary size, *including* the four
                reserved tokens (so it must be >= 4); the most frequent tokens
                are kept. ``None`` keeps all tokens.
            lowercase: Whether to lower-case the texts first.

        Returns:
            A new `Vocabulary`.

        Raises:
            ValueError: If an argument is invalid.

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> vocab = Vocabulary.build(["b a", "a c a"], level="word", max_size=6)
        >>> vocab.tokens
        ['<pad>', '<unk>', '<sos>', '<eos>', 'a', 'b']
        """
        vocab = cls(level=level, lowercase=lowercase)  # validates level/lowercase
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            raise ValueError(f"`texts` must be a list of strings; got {texts!r}.")
        if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer):
            raise ValueError(f"`min_count` must be an integer >= 1; got {min_count!r}.")
        if min_count < 1:
            raise ValueError(f"`min_count` must be an integer >= 1; got {min_count}.")
        n_reserved = len(cls.RESERVED_TOKENS)
        if max_size is not None:
            if isinstance(max_size, bool) or not isinstance(max_size, int | np.integer):
                raise ValueError(
                    f"`max_size` must be None or an integer >= {n_reserved}; "
                    f"got {max_size!r}."
                )
            if max_size < n_reserved:
                raise ValueError(
                    f"`max_size` must be >= {n_reserved} (it includes the reserved "
                    f"tokens); got {max_size}."
                )
        counts: collections.Counter[str] = collections.Counter()
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(
                    f"`texts` must contain only strings; item {index} is {text!r}."
                )
            counts.update(vocab.tokenize(text))
        for token in cls.RESERVED_TOKENS:
            counts.pop(token, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        tokens = [token for token, count in ranked if count >= min_count]
        if max_size is not None:
            tokens = tokens[: max_size - n_reserved]
        return cls(tokens, level=level, lowercase=lowercase)

    # ------------------------------------------------------------- properties
    @property
    def level(self) -> str:
        """``"char"`` or ``"word"``."""
        return self._level

    @property
    def lowercase(self) -> bool:
        """Whether texts are lower-cased before tokenizing."""
        return self._lowercase

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order, reserved ones first (``tokens[i]`` has id i)."""
        return list(self._id_to_token)

    @property
    def pad_id(self) -> int:
        """The id of ``<pad>`` (0)."""
        return self.PAD

    @property
    def unk_id(self) -> int:
        """The id of ``<unk>`` (1)."""
        return self.UNK

    @property
    def sos_id(self) -> int:
        """The id of ``<sos>`` (2)."""
        return self.SOS

    @property
    def eos_id(self) -> int:
        """The id of ``<eos>`` (3)."""
        return self.EOS

    def __len__(self) -> int:
        return len(self._id_to_token)

    def __contains__(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        return self._normalize(token) in self._token_to_id

    def __repr__(self) -> str:
        return (
            f"Vocabulary(size={len(self)}, level={self._level!r}, "
            f"lowercase={self._lowercase})"
        )

    # ---------------------------------------------------------------- lookups
    def _normalize(self, text: str) -> str:
        return text.lower() if self._lowercase else text

    def token_to_id(self, token: str) -> int:
        """Returns the id of `token` (lower-cased if `lowercase`), or `unk_id`.

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> vocab = Vocabulary(["a", "b"])
        >>> vocab.token_to_id("b"), vocab.token_to_id("z"), vocab.token_to_id("<eos>")
        (5, 1, 3)
        """
        if not isinstance(token, str):
            raise ValueError(f"`token` must be a string; got {token!r}.")
        return self._token_to_id.get(self._normalize(token), self.UNK)

    def id_to_token(self, id: int) -> str:
        """Returns the token with the given id.

        Raises:
            ValueError: If `id` is not an integer in ``[0, len(self))``.

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> Vocabulary(["a", "b"]).id_to_token(4)
        'a'
        """
        if isinstance(id, bool) or not isinstance(id, int | np.integer):
            raise ValueError(f"`id` must be an integer; got {id!r}.")
        if not 0 <= id < len(self._id_to_token):
            raise ValueError(
                f"`id` must be in [0, {len(self._id_to_token)}) for this "
                f"vocabulary; got {id}."
            )
        return self._id_to_token[int(id)]

    def tokenize(self, text: str) -> list[str]:
        """Splits `text` into tokens (characters, or whitespace-separated words).

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> Vocabulary(level="word", lowercase=True).tokenize("Hello  big World")
        ['hello', 'big', 'world']
        """
        if not isinstance(text, str):
            raise ValueError(f"`text` must be a string; got {text!r}.")
        text = self._normalize(text)
        return list(text) if self._level == "char" else text.split()

    # --------------------------------------------------------------- encoding
    def _encode_one(
        self,
        text: str,
        max_length: int | None,
        add_sos: bool,
        add_eos: bool,
        truncate: bool,
        index: int | None,
    ) -> list[int]:
        lookup = self._token_to_id
        ids = [lookup.get(tok, self.UNK) for tok in self.tokenize(text)]
        n_special = int(add_sos) + int(add_eos)
        if max_length is not None and len(ids) + n_special > max_length:
            if not truncate:
                where = "" if index is None else f" (item {index})"
                raise ValueError(
                    f"The encoded sequence{where} has {len(ids) + n_special} ids "
                    f"(including special tokens), more than `max_length`="
                    f"{max_length}. Increase `max_length` or pass truncate=True."
                )
            ids = ids[: max_length - n_special]
        if add_sos:
            ids.insert(0, self.SOS)
        if add_eos:
            ids.append(self.EOS)
        return ids

    def encode(
        self,
        text_or_list: str | Sequence[str],
        max_length: int | None = None,
        add_sos: bool = False,
        add_eos: bool = False,
        pad: bool = True,
        truncate: bool = False,
    ) -> np.ndarray | list[np.ndarray]:
        """Encodes one text or a list of texts into int32 ids.

        Args:
            text_or_list: A string, or a list (any non-string iterable) of
                strings.
            max_length: The length to pad to (with `pad_id`). ``None`` pads a
                batch to its longest sequence (a single string is not padded).
                The ``<sos>``/``<eos>`` ids count towards the length.
            add_sos: Prepend ``<sos>``.
            add_eos: Append ``<eos>``.
            pad: Whether to pad. With ``pad=False`` a single string gives an
                unpadded 1-D array and a list gives a list of 1-D arrays.
            truncate: If a sequence is longer than `max_length`, drop its
                trailing tokens (``<sos>``/``<eos>`` are kept) instead of
                raising.

        Returns:
            For a string, a 1-D int32 array; for a list, a 2-D int32 array of
            shape ``[N, max_length]`` (or a list of 1-D arrays if
            ``pad=False``).

        Raises:
            ValueError: If a sequence is longer than `max_length` and
                ``truncate=False``, or an argument is invalid.

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> vocab = Vocabulary(["a", "b", "c"])
        >>> vocab.encode("cab", max_length=5).tolist()
        [6, 4, 5, 0, 0]
        >>> vocab.encode("abcabc", max_length=4, add_eos=True, truncate=True).tolist()
        [4, 5, 6, 3]
        """
        if max_length is not None:
            if isinstance(max_length, bool) or not isinstance(
                max_length, int | np.integer
            ):
                raise ValueError(
                    f"`max_length` must be None or a non-negative integer; "
                    f"got {max_length!r}."
                )
            if max_length < int(add_sos) + int(add_eos):
                raise ValueError(
                    f"`max_length` must leave room for the requested special "
                    f"tokens (at least {int(add_sos) + int(add_eos)}); "
                    f"got {max_length}."
                )
            max_length = int(max_length)
        if isinstance(text_or_list, str):
            ids = self._encode_one(
                text_or_list, max_length, add_sos, add_eos, truncate, None
            )
            if pad and max_length is not None:
                ids = ids + [self.PAD] * (max_length - len(ids))
            return np.asarray(ids, dtype=np.int32)
        if not isinstance(text_or_list, Iterable):
            raise ValueError(
                "`text_or_list` must be a string or a list of strings; "
                f"got {text_or_list!r}."
            )
        rows = []
        for index, text in enumerate(text_or_list):
            if not isinstance(text, str):
                raise ValueError(
                    "`text_or_list` must contain only strings; "
                    f"item {index} is {text!r}."
                )
            rows.append(
                self._encode_one(text, max_length, add_sos, add_eos, truncate, index)
            )
        if not pad:
            return [np.asarray(row, dtype=np.int32) for row in rows]
        width = max_length
        if width is None:
            width = max((len(row) for row in rows), default=0)
        out = np.full((len(rows), width), self.PAD, dtype=np.int32)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out

    def decode(
        self, ids: Sequence[int] | np.ndarray, strip_special: bool = True
    ) -> str | list[str]:
        """Decodes ids back to text.

        Args:
            ids: A 1-D or 2-D array-like of integer ids (list, NumPy array or
                eager tensor).
            strip_special: If True, decoding stops at the first ``<eos>`` and
                ``<pad>``/``<sos>`` ids are dropped (``<unk>`` is kept, rendered
                as ``"<unk>"``, since it stands for real content). If False every
                id is rendered.

        Returns:
            A string for 1-D input, a list of strings for 2-D input. Characters
            are joined with ``""``, words with ``" "``.

        Raises:
            ValueError: If `ids` is not 1-D/2-D integers or holds an unknown id.

        Example:

        >>> from keras_seq.text import Vocabulary
        >>> vocab = Vocabulary(["hi", "there"], level="word")
        >>> vocab.decode([2, 4, 5, 3, 4, 0])
        'hi there'
        >>> vocab.decode([[4, 3], [5, 0]], strip_special=False)
        ['hi <eos>', 'there <pad>']
        """
        array = id_array(ids, "ids", len(self))
        if array.ndim == 2:
            return [self._decode_one(row, strip_special) for row in array]
        return self._decode_one(array, strip_special)

    def _decode_one(self, row: np.ndarray, strip_special: bool) -> str:
        table = self._id_to_token
        pieces = []
        for i in row.tolist():
            if strip_special:
                if i == self.EOS:
                    break
                if i in (self.PAD, self.SOS):
                    continue
            pieces.append(table[i])
        return ("" if self._level == "char" else " ").join(pieces)

    # ---------------------------------------------------------- serialization
    def get_config(self) -> dict:
        """Returns a JSON-serialisable dict; ``from_config`` inverts it.

        ``tokens`` holds the regular tokens only (the constructor argument).
        """
        return {
            "tokens": self._id_to_token[len(self.RESERVED_TOKENS) :],
            "level": self._level,
            "lowercase": self._lowercase,
        }

    @classmethod
    def from_config(cls, config: dict) -> Vocabulary:
        """Creates a vocabulary from the output of `get_config`."""
        return cls(**config)

    def save(self, path: str | os.PathLike) -> None:
        """Writes the vocabulary as a UTF-8 JSON file (the `get_config` dict).

        Example:

        >>> import os, tempfile
        >>> from keras_seq.text import Vocabulary
        >>> vocab = Vocabulary(["x", "y"], lowercase=True)
        >>> path = os.path.join(tempfile.mkdtemp(), "vocab.json")
        >>> vocab.save(path)
        >>> Vocabulary.load(path).tokens == vocab.tokens
        True
        """
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.get_config(), handle, ensure_ascii=False, indent=1)
            handle.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Reads a vocabulary written by `save`.

        Raises:
            ValueError: If the file is not a valid vocabulary file (the message
                names the path).
        """
        try:
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f"Malformed vocabulary file {os.fspath(path)!r}: not valid "
                f"UTF-8 JSON ({error})."
            ) from error
        expected = {"tokens", "level", "lowercase"}
        if not isinstance(config, dict) or set(config) != expected:
            keys = sorted(config) if isinstance(config, dict) else type(config).__name__
            raise ValueError(
                f"Malformed vocabulary file {os.fspath(path)!r}: expected a JSON "
                f"object with keys {sorted(expected)}; got {keys}."
            )
        if not isinstance(config["tokens"], list):
            raise ValueError(
                f"Malformed vocabulary file {os.fspath(path)!r}: 'tokens' must "
                "be a list of strings."
            )
        try:
            return cls.from_config(config)
        except ValueError as error:
            raise ValueError(
                f"Malformed vocabulary file {os.fspath(path)!r}: {error}"
            ) from error
