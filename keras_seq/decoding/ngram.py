"""Small n-gram language models for CTC shallow fusion, plus a KenLM adapter.

Both follow the protocol of `ctc_beam_search_decode`: `lm(context, token)`
returns the **natural-log** probability of `token` after the tuple `context`
(previous words, or characters for `level="char"`; `"<s>"` marks the start of
the utterance; `"</s>"` is the end-of-sentence token). `log10_prob` and
`score` use base 10, like ARPA files and KenLM.
"""

from __future__ import annotations

import math
from collections import defaultdict

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
_LN10 = math.log(10.0)


def _check_order(order):
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"`order` must be a positive integer, got {order!r}")


class NGramLM:
    """Interpolated Kneser-Ney n-gram LM (one discount per order), words or characters.

    Counts: the highest order uses raw counts; lower orders use continuation
    counts N1+(. g) (the number of distinct tokens seen before g), except
    n-grams starting with `<s>`, which keep raw counts (as in KenLM's lmplz).
    With one absolute discount D_n = n1 / (n1 + 2 n2) per order (n_k = number
    of n-grams with count k; 0.5 if undefined):

        p_n(w | h) = max(c(h w) - D_n, 0) / c(h .)
                     + D_n N1+(h .) / c(h .) * p_{n-1}(w | h minus its first token)

    and p_0(w) = 1 / |V| (uniform over the vocabulary, `</s>` and `<unk>`
    included), so every p_n(. | h) sums to one. An unseen context backs off to
    the shorter one. Unknown tokens are `<unk>`. `to_arpa` writes exactly
    these probabilities (log10) with the interpolation weights as back-off
    weights, so KenLM reading the file gives the same scores.

    Args:
        order: int n. Defaults to `3`.
        level: `"word"` (texts split on whitespace) or `"char"` (every
            character is a token, spaces included). Defaults to `"word"`.

    Example:
    >>> from keras_seq.decoding import NGramLM
    >>> lm = NGramLM(order=2).fit(["turn on the light", "turn off the light"])
    >>> lm(("<s>",), "turn") > lm(("<s>",), "light")
    True
    >>> round(sum(10 ** lm.log10_prob(("the",), w) for w in lm.vocabulary), 6)
    1.0
    """

    def __init__(self, order=3, level="word"):
        _check_order(order)
        if level not in ("word", "char"):
            raise ValueError(f"`level` must be 'word' or 'char', got {level!r}")
        self.order = order
        self.level = level
        self.vocabulary = None

    def tokenize(self, text):
        """Splits a text into tokens (words, or characters for `level="char"`)."""
        return list(text) if self.level == "char" else text.split()

    def fit(self, texts):
        """Counts n-grams in `texts` (an iterable of sentences); returns self."""
        if isinstance(texts, str):
            raise ValueError("`texts` must be an iterable of sentences, not one string")
        raw = [defaultdict(int) for _ in range(self.order + 1)]
        tokens_seen = set()
        for text in texts:
            tokens = self.tokenize(text)
            tokens_seen.update(tokens)
            padded = [BOS] + tokens + [EOS]
            for n in range(1, self.order + 1):
                for i in range(len(padded) - n + 1):
                    gram = tuple(padded[i : i + n])
                    if gram != (BOS,):
                        raw[n][gram] += 1
        if not raw[1]:
            raise ValueError("`texts` must contain at least one sentence")
        for reserved in (BOS, EOS, UNK):
            tokens_seen.discard(reserved)
        self.vocabulary = sorted(tokens_seen) + [EOS, UNK]
        self._known = set(self.vocabulary) | {BOS}
        counts = [None] * (self.order + 1)
        counts[self.order] = dict(raw[self.order])
        for n in range(self.order - 1, 0, -1):
            left = defaultdict(int)
            for gram in raw[n + 1]:
                left[gram[1:]] += 1
            counts[n] = {
                g: (c if g[0] == BOS else left.get(g, 0)) for g, c in raw[n].items()
            }
            counts[n] = {g: c for g, c in counts[n].items() if c > 0}
        self._counts = counts
        self._discount = [0.0] * (self.order + 1)
        self._context_total = [None] * (self.order + 1)
        self._context_types = [None] * (self.order + 1)
        for n in range(1, self.order + 1):
            values = list(counts[n].values())
            n1, n2 = values.count(1), values.count(2)
            self._discount[n] = n1 / (n1 + 2 * n2) if n1 and n2 else 0.5
            total, types = defaultdict(int), defaultdict(int)
            for gram, c in counts[n].items():
                total[gram[:-1]] += c
                types[gram[:-1]] += 1
            self._context_total[n] = dict(total)
            self._context_types[n] = dict(types)
        self._cache = {}
        return self

    def _map(self, token):
        return token if token in self._known else UNK

    def _prob(self, context, token):
        """Probability of `token` after `context` (a tuple of known tokens)."""
        key = (context, token)
        value = self._cache.get(key)
        if value is not None:
            return value
        n = len(context) + 1
        if n == 1:
            value = self._interpolate(1, (), token, 1.0 / len(self.vocabulary))
        else:
            lower = self._prob(context[1:], token)
            if context in self._context_total[n]:
                value = self._interpolate(n, context, token, lower)
            else:
                value = lower
        self._cache[key] = value
        return value

    def _interpolate(self, n, context, token, lower):
        total = self._context_total[n].get(context, 0)
        if total == 0:
            return lower
        discount = self._discount[n]
        count = self._counts[n].get(context + (token,), 0)
        gamma = discount * self._context_types[n][context] / total
        return max(count - discount, 0.0) / total + gamma * lower

    def _context(self, context):
        if self.vocabulary is None:
            raise ValueError("the language model is not fitted: call `fit(texts)` first")
        context = tuple(self._map(t) for t in context)
        if BOS in context:  # nothing before the start of the sentence matters
            context = context[len(context) - 1 - context[::-1].index(BOS) :]
        return context[max(0, len(context) - self.order + 1) :]

    def log10_prob(self, context, token):
        """log10 p(token | context); `token` may be `"</s>"`."""
        context = self._context(context)
        if token == BOS:
            raise ValueError("`token` cannot be '<s>': it is never predicted")
        return math.log10(self._prob(context, self._map(token)))

    def __call__(self, context, token):
        """Natural-log p(token | context), the decoder's LM protocol."""
        return self.log10_prob(context, token) * _LN10

    def score(self, text, bos=True, eos=True):
        """log10 probability of a whole sentence, like `kenlm.Model.score`."""
        context = (BOS,) if bos else ()
        total = 0.0
        for token in self.tokenize(text) + ([EOS] if eos else []):
            total += self.log10_prob(context, token)
            context = (context + (token,))[-(self.order - 1) :] if self.order > 1 else ()
        return total

    def to_arpa(self, path, space_symbol="<space>"):
        """Writes the model as an ARPA file (log10 probabilities and back-offs).

        For `level="char"`, spaces are written as `space_symbol` (ARPA tokens
        cannot contain whitespace).
        """
        if self.vocabulary is None:
            raise ValueError("the language model is not fitted: call `fit(texts)` first")

        def text(gram):
            return " ".join(space_symbol if t == " " else t for t in gram)

        sections = []
        for n in range(1, self.order + 1):
            grams = sorted(self._counts[n]) if n > 1 else [(w,) for w in self.vocabulary]
            if n == 1:
                grams = [(BOS,)] + grams
            lines = []
            for gram in grams:
                prob = -99.0 if gram == (BOS,) else math.log10(self._prob(gram[:-1], gram[-1]))
                line = f"{prob:.7f}\t{text(gram)}"
                if n < self.order:
                    total = self._context_total[n + 1].get(gram, 0)
                    if total:
                        gamma = self._discount[n + 1] * self._context_types[n + 1][gram] / total
                        line += f"\t{math.log10(gamma):.7f}"
                    else:
                        line += "\t0"
                lines.append(line)
            sections.append(lines)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\\data\\\n")
            for n, lines in enumerate(sections, 1):
                f.write(f"ngram {n}={len(lines)}\n")
            for n, lines in enumerate(sections, 1):
                f.write(f"\n\\{n}-grams:\n")
                f.write("\n".join(lines) + "\n")
            f.write("\n\\end\\\n")
        return path


class KenLMAdapter:
    """Wraps a `kenlm.Model` (or an ARPA/binary path) in the decoder's LM protocol.

    `adapter(context, word)` returns the natural-log probability KenLM gives
    `word` after `context` (`"<s>"` first = start of sentence); `"</s>"` is the
    end-of-sentence token. States are cached per context.

    Args:
        model: a `kenlm.Model` or a path to load with `kenlm.Model`.
        level: `"word"` or `"char"`. Defaults to `"word"`.
        space_symbol: for `level="char"`, the token standing for a space.
        vocabulary: optional iterable of the known words (used by the
            decoder's `unknown_word_logp`); read from the unigrams when
            `model` is a path to an ARPA file.

    Example:
    >>> import os, tempfile
    >>> from keras_seq.decoding import KenLMAdapter, NGramLM
    >>> ours = NGramLM(order=2).fit(["yes", "no", "yes yes"])
    >>> path = ours.to_arpa(os.path.join(tempfile.mkdtemp(), "lm.arpa"))
    >>> theirs = KenLMAdapter(path)
    >>> abs(theirs(("<s>",), "yes") - ours(("<s>",), "yes")) < 1e-5
    True
    """

    def __init__(self, model, level="word", space_symbol="<space>", vocabulary=None):
        try:
            import kenlm
        except ImportError as error:  # pragma: no cover - kenlm is installed here
            raise ImportError(
                "KenLMAdapter needs the `kenlm` package: pip install kenlm"
            ) from error
        if level not in ("word", "char"):
            raise ValueError(f"`level` must be 'word' or 'char', got {level!r}")
        self._kenlm = kenlm
        is_path = isinstance(model, str) or hasattr(model, "__fspath__")
        self.model = kenlm.Model(str(model)) if is_path else model
        if vocabulary is None and is_path and str(model).endswith(".arpa"):
            vocabulary = _arpa_unigrams(str(model))
        self.vocabulary = None if vocabulary is None else sorted(set(vocabulary))
        self.order = self.model.order
        self.level = level
        self.space_symbol = space_symbol
        self._states = {}

    def _word(self, token):
        return self.space_symbol if token == " " else token

    def _state(self, context):
        state = self._states.get(context)
        if state is None:
            if not context:
                state = self._kenlm.State()
                self.model.NullContextWrite(state)
            elif context == (BOS,):
                state = self._kenlm.State()
                self.model.BeginSentenceWrite(state)
            else:
                previous = self._state(context[:-1])
                state = self._kenlm.State()
                self.model.BaseScore(previous, self._word(context[-1]), state)
            self._states[context] = state
        return state

    def __call__(self, context, token):
        context = tuple(context)
        if BOS in context:
            context = context[len(context) - 1 - context[::-1].index(BOS) :]
        state = self._state(context)
        out = self._kenlm.State()
        return self.model.BaseScore(state, self._word(token), out) * _LN10


def _arpa_unigrams(path):
    words, inside = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                inside = line == "\\1-grams:"
                continue
            if inside and line:
                word = line.split("\t")[1] if "\t" in line else line.split()[1]
                if word not in (BOS, EOS, UNK):
                    words.append(word)
    return words
