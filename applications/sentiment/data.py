"""Generated Emojify-style sentences (love, sport, joy, sadness, food) with
seen, unseen-word and negation test splits; loaders for CSV/TSV files and the
IMDB folder layout.

The class of a generated sentence is set by its keyword. Training sentences
use the *seen* keywords; the unseen-word split uses other keywords of the
same classes that never occur in training but do occur in the embedded
Wikipedia corpus, so only pretrained vectors can carry them. Negated
joy/sadness sentences flip the class ("i am not happy" is sadness, "this is
not bad at all" is joy); an average of word vectors cannot represent that
flip for both polarities at once, a recurrent model can.
"""

from __future__ import annotations

import csv
import os

import numpy as np

CLASSES = ["love", "sport", "joy", "sadness", "food"]
SEEN = {
    "love": ["love", "loved", "passion", "hate"],
    "sport": ["football", "tennis", "rugby", "team", "match"],
    "joy": ["happy", "good", "great", "beautiful", "excellent"],
    "sadness": ["sad", "bad", "pain", "poor", "suffering"],
    "food": ["food", "bread", "meat", "milk", "vegetables"],
}
UNSEEN = {
    "love": ["lover", "beloved", "romance"],
    "sport": ["basketball", "hockey", "cricket", "championship"],
    "joy": ["happiness", "pleasure", "fine", "success"],
    "sadness": ["grief", "terrible", "tears", "fear"],
    "food": ["rice", "fruit", "tea", "cuisine"],
}
TEMPLATES = [
    "{x}", "i think about {x}", "this is all about {x} today", "my friend said {x}", "so much {x} here",
    "we talked about {x} again", "it is {x}", "what {x} this is", "you know it was {x}", "{x} for everyone",
    "they said it is {x} for us", "such {x} in the morning",
]
NEGATIONS = [
    "i am not {x}", "this is not {x} at all", "it was not {x}", "not {x} at all", "we are not {x} today",
    "that is not {x}", "they were not {x} with it", "it is not really {x}",
]
FILLERS = ["today", "really", "very", "now", "here", "again", "so", "just", "always", "oh"]
FLIP = {"joy": "sadness", "sadness": "joy"}


def _sentence(rng, templates, word):
    text = templates[rng.integers(len(templates))].format(x=word)
    if rng.random() < 0.4:
        text = f"{text} {FILLERS[rng.integers(len(FILLERS))]}"
    if rng.random() < 0.3:
        text = f"{FILLERS[rng.integers(len(FILLERS))]} {text}"
    return text


def generate(count, words, seed=0, negated=0.0):
    """`count` (text, label) pairs with keywords from `words` ({class:
    [keywords]}); a fraction `negated` of joy/sadness sentences are negated
    and labelled with the other polarity."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        label = CLASSES[rng.integers(len(CLASSES))]
        word = words[label][rng.integers(len(words[label]))]
        if label in FLIP and rng.random() < negated:
            pairs.append((_sentence(rng, NEGATIONS, word), CLASSES.index(FLIP[label])))
        else:
            pairs.append((_sentence(rng, TEMPLATES, word), CLASSES.index(label)))
    return pairs


def generate_negations(count, words=SEEN, seed=0):
    """Negated joy/sadness sentences only (the negation split)."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        label = ["joy", "sadness"][rng.integers(2)]
        word = words[label][rng.integers(len(words[label]))]
        pairs.append((_sentence(rng, NEGATIONS, word), CLASSES.index(FLIP[label])))
    return pairs


def make_dataset(train_examples, eval_examples, seed=0, negated=0.3):
    """The embedded data: a training list and three test splits.

    Returns:
        `(train, {"seen": ..., "unseen": ..., "negation": ...})`, each a list
        of (text, label index into `CLASSES`). Test sentences are generated
        from other seeds; texts that also occur in training are dropped from
        the seen split.

    Example:

    >>> train, tests = make_dataset(100, 20)
    >>> sorted(tests), len(train)
    (['negation', 'seen', 'unseen'], 100)
    >>> any(w in text.split() for text, _ in tests["unseen"] for ws in SEEN.values() for w in ws)
    False
    """
    train = generate(train_examples, SEEN, seed=seed, negated=negated)
    seen_texts = {text for text, _ in train}
    seen = [p for p in generate(eval_examples * 3, SEEN, seed=seed + 1000) if p[0] not in seen_texts][:eval_examples]
    return train, {
        "seen": seen,
        "unseen": generate(eval_examples, UNSEEN, seed=seed + 2000),
        "negation": generate_negations(eval_examples, SEEN, seed=seed + 3000),
    }


def load_csv(path, text_column=None, label_column=None):
    """Reads `text,label` rows from a CSV (or TSV: `.tsv`/`.tab` or tab-
    separated) file. A header row naming `text`/`label` (or the given
    columns) is used when present; otherwise the first column is the text
    and the second the label.

    Returns:
        `(texts, labels, classes)`: labels index into the sorted class names.

    Raises:
        ValueError: naming the line of a row with a missing label.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        delimiter = "\t" if path.endswith((".tsv", ".tab")) or sample.count("\t") > sample.count(",") else ","
        rows = list(csv.reader(f, delimiter=delimiter))
    if not rows:
        raise ValueError(f"`path` {path} is empty.")
    header = [c.strip().lower() for c in rows[0]]
    text_index, label_index, start = 0, 1, 0
    wanted_text, wanted_label = (text_column or "text").lower(), (label_column or "label").lower()
    if wanted_text in header and wanted_label in header:
        text_index, label_index, start = header.index(wanted_text), header.index(wanted_label), 1
    texts, names = [], []
    for number, row in enumerate(rows[start:], start + 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) <= max(text_index, label_index) or not row[label_index].strip():
            raise ValueError(f"`path` {path}: line {number} must hold a text and a label; got {row!r}.")
        texts.append(row[text_index])
        names.append(row[label_index].strip())
    classes = sorted(set(names))
    return texts, [classes.index(n) for n in names], classes


def load_imdb(path, split=None):
    """Reads the IMDB (aclImdb) layout: `path/[split/]{neg,pos}/*.txt`.

    Returns:
        `(texts, labels, ["neg", "pos"])`.
    """
    root = os.path.join(os.fspath(path), split) if split else os.fspath(path)
    texts, labels = [], []
    for label, name in enumerate(["neg", "pos"]):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            raise ValueError(f"`path` {root!r} must contain `neg/` and `pos/` folders of .txt reviews.")
        for file in sorted(os.listdir(folder)):
            if file.endswith(".txt"):
                with open(os.path.join(folder, file), encoding="utf-8", errors="replace") as f:
                    texts.append(f.read().replace("<br />", " "))
                labels.append(label)
    return texts, labels, ["neg", "pos"]
