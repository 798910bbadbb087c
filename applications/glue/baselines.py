"""The two baselines every GLUE task is reported against.

* **Majority**: the most frequent training label (STS-B: the mean
  training score, a constant whose correlations are 0).
* **Lexical**: what words alone give. One sentence (CoLA, SST-2): a
  multinomial naive Bayes classifier over the bag of words (add-one
  smoothing). A pair: word overlap between the two sentences (Jaccard, the
  share of each side's words found in the other, the length ratio, and
  whether the bags are equal) fed to a softmax regression (classes) or a
  least-squares line (STS-B) fitted on the training pairs; this is the
  "lexical overlap" heuristic of McCoy et al. (2019).

Both are fitted on the training split and return predictions in the task's
label strings (or scores), ready for `applications.glue.metrics.task_metrics`.
"""

from __future__ import annotations

import collections
import re

import numpy as np

from applications.glue.formats import TASKS

_WORD = re.compile(r"\w+")


def words(text):
    """Lower-cased word tokens.

    >>> words("The dog's bone, chased!")
    ['the', 'dog', 's', 'bone', 'chased']
    """
    return _WORD.findall(text.lower())


def _task(task):
    return TASKS[task] if isinstance(task, str) else task


def majority(task, train):
    """A predictor of the most frequent training label (or mean score)."""
    task = _task(task)
    labels = [example.label for example in train]
    if task.is_regression:
        value = float(np.mean(labels))
    else:
        counts = collections.Counter(labels)
        value = max(task.labels, key=lambda label: (counts[label], -task.labels.index(label)))
    return lambda examples: [value] * len(examples)


def overlap_features(text_a, text_b):
    """Word-overlap features of a pair: Jaccard, the share of `text_a`'s
    words in `text_b` and of `text_b`'s in `text_a`, the length ratio and
    whether the word sets are equal.

    >>> overlap_features("the dog chased the cat", "the cat chased the dog")
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    a, b = set(words(text_a)), set(words(text_b))
    union = len(a | b) or 1
    shared = len(a & b)
    length_a, length_b = len(words(text_a)) or 1, len(words(text_b)) or 1
    return [shared / union, shared / (len(a) or 1), shared / (len(b) or 1),
            min(length_a, length_b) / max(length_a, length_b), float(a == b)]  # fmt: skip


def _features(examples):
    return np.array([overlap_features(e.text_a, e.text_b or "") for e in examples], np.float64)


def _softmax_regression(features, targets, classes, steps=2000, rate=0.5, l2=1e-4):
    """Weights of a softmax regression (bias included) by gradient descent
    on standardised features (a convex problem: the result does not depend
    on a seed)."""
    mean, scale = features.mean(0), features.std(0) + 1e-9
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    y = np.eye(classes)[targets]
    weights = np.zeros((x.shape[1], classes))
    for _ in range(steps):
        logits = x @ weights
        logits -= logits.max(1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(1, keepdims=True)
        weights -= rate * (x.T @ (probabilities - y) / len(x) + l2 * weights)
    return lambda f: np.argmax(np.hstack([(f - mean) / scale, np.ones((len(f), 1))]) @ weights, axis=1)


def lexical(task, train):
    """A predictor from words alone (see the module docstring)."""
    task = _task(task)
    if not task.is_pair:
        return _naive_bayes(task, train)
    features = _features(train)
    if task.is_regression:
        design = np.hstack([features, np.ones((len(features), 1))])
        coefficients, *_ = np.linalg.lstsq(design, np.array([e.label for e in train], np.float64), rcond=None)
        return lambda examples: list(np.hstack([_features(examples), np.ones((len(examples), 1))]) @ coefficients)
    targets = np.array([task.labels.index(e.label) for e in train])
    predict = _softmax_regression(features, targets, len(task.labels))
    return lambda examples: [task.labels[i] for i in predict(_features(examples))]


def _naive_bayes(task, train):
    """Multinomial naive Bayes over word counts with add-one smoothing and
    class priors from the training frequencies (scikit-learn's
    `MultinomialNB(alpha=1)` over `words`); unseen words are ignored."""
    counts = {label: collections.Counter() for label in task.labels}
    priors = collections.Counter(e.label for e in train)
    for example in train:
        counts[example.label].update(words(example.text_a))
    vocabulary = set().union(*counts.values())
    present = [label for label in task.labels if priors[label]]
    log_prior = {label: np.log(priors[label] / len(train)) for label in present}
    log_likelihood = {}
    for label in present:
        total = sum(counts[label].values()) + len(vocabulary)
        log_likelihood[label] = {w: np.log((counts[label][w] + 1) / total) for w in vocabulary}

    def predict(examples):
        result = []
        for example in examples:
            tokens = [w for w in words(example.text_a) if w in vocabulary]
            scores = [log_prior[label] + sum(log_likelihood[label][w] for w in tokens) for label in present]
            result.append(present[int(np.argmax(scores))])
        return result

    return predict
