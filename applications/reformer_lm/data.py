"""Long-range recall documents for the Reformer LM, generated or from English text.

A document is a word sequence of a fixed length:

    <bos> code : v1 k1 v2 k2 ... vn kn . <filler words ...> code : kb vb ka va ... <eos>

At the start, `n` code words `v` (from `CODE_WORDS`, drawn with
replacement) are each followed by a distinct key `k` (from `KEYS`, colour
names); at the end, thousands of words later, the keys are asked again in a
random order and each is followed by its code word. The filler between them
holds neither code words nor keys, so predicting a code word after its key
at the end needs the context from the start: those `n` positions are the
"recall positions" whose accuracy the application reports (chance:
1 / len(CODE_WORDS)).

Why the code word comes *before* its key at the start: the Reformer's LSH
attention shares queries and keys (q = k), so a position is drawn to
earlier positions whose representation resembles its own; a repeated key
finds its first occurrence (identical tokens hash to the same bucket in
every round), and a causal model can only read what that position already
holds, which is the word before it. With the key first (`k1 v1`), the
matching position would be the key, which cannot yet know the code word
after it: solving that needs an induction circuit whose query and key
differ, which shared-QK attention cannot express directly (the
`<bos> code : v1 v2 ...` format of an earlier version was not learned).
The random order at the end makes the keys, not positions, the only cue.

Filler words come from
- `"generated"` (default): a seeded stream of 160 common English words
  (`FILLER_WORDS`), drawn with Zipf-like frequencies;
- `"english"`: consecutive text of gensim's bundled Lee news corpus
  (`lee_background.cor`, 300 stories), lower-cased words (code words, keys,
  the marker and ":" removed, so `code :` only opens the two code parts);
- a path to any text file (read the same way).

Example:
>>> from applications.reformer_lm.data import Vocabulary, generate_documents
>>> docs = generate_documents(2, length=40, seed=0)
>>> len(docs[0]), docs[0][:2], docs[0][-1]
(40, ['<bos>', 'code'], '<eos>')
>>> vocabulary = Vocabulary.build(docs)
>>> ids, recall = vocabulary.encode_documents(docs)
>>> ids.shape, int(recall.sum())
((2, 40), 8)
"""

from __future__ import annotations

import os
import random
import re

import numpy as np

from applications import contract

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
MARKER = "code"
CODE_WORDS = (
    "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
    "yankee", "zulu",
)
FILLER_WORDS = tuple(
    """the of and to a in is it you that he was for on are with as i his they be at one
    have this from or had by hot word but what some we can out other were all there when
    up use your how said an each she which do their time if will way about many then them
    write would like so these her long make thing see him two has look more day could go
    come did number sound no most people my over know water than call first who may down
    side been now find any new work part take get place made live where after back little
    only round man year came show every good me give our under name very through just form
    sentence great think say help low line differ turn cause much mean before move right
    boy old too same tell does set three want air well also play small end put home read
    hand port large spell add even land here must big high such follow act why ask men""".split()
)
KEYS = ("red", "green", "blue", "yellow", "white", "black", "orange", "purple")
NUM_CODES = 4


def _check(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; received {value!r}.")


def english_words(source="english"):
    """Lower-cased words of gensim's Lee corpus (`"english"`) or a text file."""
    if source == "english":
        from gensim.test.utils import datapath

        source = datapath("lee_background.cor")
    if not os.path.exists(source):
        raise ValueError(
            f"`data` must be 'generated', 'english' or an existing text file; received {source!r}."
        )
    with open(source, encoding="utf-8", errors="replace") as handle:
        words = re.findall(r"[a-z]+(?:'[a-z]+)?|[.,;:!?]", handle.read().lower())
    banned = {*CODE_WORDS, *KEYS, MARKER, ":"}
    words = [w for w in words if w not in banned]
    if len(words) < 100:
        raise ValueError(f"the text in {source!r} has fewer than 100 words.")
    return words


def _filler(rng, count, source_words):
    if source_words is None:
        weights = [1.0 / (rank + 1) for rank in range(len(FILLER_WORDS))]
        return rng.choices(FILLER_WORDS, weights=weights, k=count)
    start = rng.randrange(len(source_words))
    doubled = source_words * (1 + (start + count) // len(source_words))
    return doubled[start : start + count]


def generate_documents(n, length=8192, seed=0, data="generated", num_codes=NUM_CODES):
    """`n` documents of exactly `length` words (see the module doc).

    Args:
        n: int, number of documents.
        length: int >= 4 * num_codes + 8, words per document.
        seed: int.
        data: `"generated"`, `"english"` or a text file path (the filler).
        num_codes: int in [1, len(KEYS)], code words to recall.

    Returns:
        list of word lists.
    """
    _check("n", n, 1)
    _check("num_codes", num_codes, 1)
    if num_codes > len(KEYS):
        raise ValueError(f"`num_codes` must be at most {len(KEYS)}; received {num_codes!r}.")
    _check("length", length, 4 * num_codes + 8)
    source_words = None if data == "generated" else english_words(data)
    rng = random.Random(seed)
    documents = []
    for _ in contract.progress(range(n), desc=f"generating {length}-word documents", unit="document"):
        codes = rng.choices(CODE_WORDS, k=num_codes)
        keys = rng.sample(KEYS, num_codes)
        asked = rng.sample(range(num_codes), num_codes)
        head = [BOS, MARKER, ":"] + [w for i in range(num_codes) for w in (codes[i], keys[i])] + ["."]
        tail = [MARKER, ":"] + [w for i in asked for w in (keys[i], codes[i])] + [EOS]
        filler = _filler(rng, length - len(head) - len(tail), source_words)
        documents.append(head + filler + tail)
    return documents


class Vocabulary:
    """Word <-> id mapping with `<pad>`=0, `<unk>`=1, `<bos>`=2, `<eos>`=3,
    the marker, the keys and the code words always present."""

    def __init__(self, words):
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, documents, max_size=4000):
        counts = {}
        for doc in documents:
            for w in doc:
                counts[w] = counts.get(w, 0) + 1
        fixed = list(SPECIALS) + [MARKER, ":", "."] + list(CODE_WORDS) + list(KEYS)
        rest = sorted((w for w in counts if w not in fixed), key=lambda w: (-counts[w], w))
        return cls(fixed + rest[: max(0, max_size - len(fixed))])

    def __len__(self):
        return len(self.words)

    def encode(self, words):
        return [self.index.get(w, 1) for w in words]

    def decode(self, ids):
        return [self.words[i] for i in ids if i > 0]

    def encode_documents(self, documents):
        """ids `[N, T]` and a bool mask `[N, T]` of the recall positions (the
        code words after their keys at the end)."""
        ids = np.array([self.encode(doc) for doc in documents], "int32")
        recall = np.zeros(ids.shape, bool)
        for row, doc in enumerate(documents):
            end = len(doc) - 1  # <eos>
            count = sum(1 for w in doc if w in CODE_WORDS) // 2
            recall[row, end - 2 * count + 1 : end : 2] = True
        return ids, recall

    def get_config(self):
        return {"words": self.words}
