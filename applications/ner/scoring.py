"""Entity-level precision, recall and F1 for BIO tags (the CoNLL `conlleval`
rules, as `seqeval`'s default mode applies them).

An entity is a maximal run of tags of one type that starts with ``B-X``, or
with ``I-X`` after ``O`` / another type (a lenient start, as conlleval
counts it); it ends before ``O``, ``B-``, or a tag of another type. A
predicted entity is correct only if its type, first and last token all
equal a gold entity's. Precision = correct / predicted, recall = correct /
gold, F1 their harmonic mean, micro-averaged over all sentences and types.

Example:

>>> from applications.ner.scoring import entity_scores, get_entities
>>> get_entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
[('PER', 0, 1), ('LOC', 3, 3), ('LOC', 4, 4)]
>>> gold = [["B-PER", "I-PER", "O", "B-LOC"]]
>>> pred = [["B-PER", "O", "O", "B-LOC"]]
>>> s = entity_scores(gold, pred)
>>> round(s["precision"], 3), round(s["recall"], 3), round(s["f1"], 3)
(0.5, 0.5, 0.5)
"""

from __future__ import annotations


def _split(tag: str) -> tuple[str, str]:
    if tag == "O" or not tag:
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def get_entities(tags: list[str]) -> list[tuple[str, int, int]]:
    """``(type, first index, last index)`` of every entity in one sentence."""
    entities = []
    start = None
    previous_prefix, previous_type = "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = _split(tag)
        ends = previous_prefix != "O" and (prefix in ("B", "O") or kind != previous_type)
        if ends and start is not None:
            entities.append((previous_type, start, i - 1))
            start = None
        begins = prefix == "B" or (prefix == "I" and (previous_prefix == "O" or kind != previous_type))
        if begins:
            start = i
        previous_prefix, previous_type = prefix, kind
    return entities


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Micro precision/recall/F1 over sentences of BIO tags, and per type.

    Returns:
        dict with ``precision``, ``recall``, ``f1`` (0.0 when undefined),
        ``correct``, ``predicted``, ``gold`` counts and ``per_type``:
        ``{type: {"precision", "recall", "f1", "support"}}``.

    Raises:
        ValueError: if the lists (or a sentence pair) differ in length.
    """
    gold, predicted = list(gold), list(predicted)
    if len(gold) != len(predicted):
        raise ValueError(
            f"`gold` and `predicted` must hold the same number of sentences; "
            f"received {len(gold)} and {len(predicted)}."
        )
    gold_set, predicted_set = set(), set()
    for n, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(
                f"sentence {n}: `gold` has {len(g)} tags but `predicted` has {len(p)}; they must match."
            )
        gold_set.update((n,) + e for e in get_entities(g))
        predicted_set.update((n,) + e for e in get_entities(p))

    def prf(g, p):
        correct = len(g & p)
        precision = correct / len(p) if p else 0.0
        recall = correct / len(g) if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1, correct

    precision, recall, f1, correct = prf(gold_set, predicted_set)
    per_type = {}
    for kind in sorted({e[1] for e in gold_set | predicted_set}):
        g = {e for e in gold_set if e[1] == kind}
        p = {e for e in predicted_set if e[1] == kind}
        tp, tr, tf, _ = prf(g, p)
        per_type[kind] = {"precision": tp, "recall": tr, "f1": tf, "support": len(g)}
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "correct": correct,
        "predicted": len(predicted_set),
        "gold": len(gold_set),
        "per_type": per_type,
    }
