"""The embedded GLUE-style data: one generated task per GLUE task type,
written in the real file layouts (see `applications.glue.formats`).

Each task is built so that a small BERT can learn it from word order and
structure while the two baselines cannot: the majority class, and a
lexical model (bag of words for one sentence, word overlap for a pair).

* **CoLA (acceptability).** Simple clauses ("the dog near the cats chases
  the bird") that are acceptable, break subject-verb agreement ("... chase
  the bird") or swap two adjacent words. Every sentence holds a singular
  and a plural noun, so the same bag of words is acceptable in one order
  and unacceptable in another. 70% acceptable, as in CoLA.
* **SST-2 (sentiment).** Two contrasted clauses ("the plot was not dull
  but the acting was weak"): the clause after "but" / "however" / the
  "although" clause's main clause decides, and "not" flips an adjective.
  The two clauses always have opposite polarities, so every bag of words
  occurs with both labels. 55% positive.
* **MRPC (paraphrase).** A sentence about a person and an animal and a
  rewrite (the same verb or a synonym, the adverbial moved) that keeps or
  swaps who did what to whom ("the girl chased the dog" / "the dog pursued
  the girl"), as in PAWS: paraphrases and non-paraphrases share all their
  words. 68% paraphrases, as in MRPC. (`PASSIVE` can add passive rewrites;
  it is 0 because with them the label becomes a parity of four word-order
  and voice cues, which a small encoder trained from scratch on the CPU
  did not learn in minutes.) The fast size generates the pairs without
  adverbials (`make_dataset(adverbials=False)`): bare clauses, so who did
  what to whom sits at the same positions in every pair, which a small
  encoder trained for under a minute learns; the words still carry no
  signal.
* **STS-B (similarity).** The same rewrites, scored 0-5: 5 x (roles kept
  (2 or 0) + the verb's meaning kept (same verb or a synonym: 1; another
  verb: 0)) / 3, plus annotator-like noise (sd 0.25), clipped to [0, 5].
* **MNLI (entailment).** Quantified statements ("all dogs sleep", "not all
  animals sleep") with the same, a more general or a more specific noun;
  the label (entailment / neutral / contradiction) is computed by brute
  force over small set models (`nli_label`), so monotonicity holds exactly
  ("no animals sleep" entails "no dogs sleep", not the reverse). Genres
  are sentence frames; the mismatched genres' frames never occur in
  training. Balanced thirds, as in MNLI.

Splits: train, dev and test of every task (MNLI: dev/test matched and
mismatched) and the AX diagnostic (mismatched frames, unlabelled). No dev or
test text (pair) occurs in train, nor in another held-out split; test files
are written without labels, as GLUE's are (`make_dataset` keeps them).
"""

from __future__ import annotations

import functools
import itertools
import os

import numpy as np

from applications.glue.formats import Example, write_glue

GENERATED_TASKS = ("CoLA", "SST-2", "MRPC", "STS-B", "MNLI")

# -- vocabulary --------------------------------------------------------------------

# (singular, plural) animate nouns
NOUNS = [("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("horse", "horses"), ("teacher", "teachers"),
         ("farmer", "farmers"), ("doctor", "doctors"), ("student", "students"), ("child", "children"),
         ("girl", "girls"), ("boy", "boys"), ("baker", "bakers"), ("pilot", "pilots"), ("singer", "singers"),
         ("nurse", "nurses"), ("lawyer", "lawyers")]  # fmt: skip
# (third person singular, plural) transitive and intransitive verbs
TRANSITIVE = [("chases", "chase"), ("sees", "see"), ("helps", "help"), ("follows", "follow"), ("visits", "visit"),
              ("calls", "call"), ("pushes", "push"), ("watches", "watch"), ("praises", "praise"),
              ("blames", "blame"), ("greets", "greet"), ("likes", "like")]  # fmt: skip
INTRANSITIVE = [("sleeps", "sleep"), ("runs", "run"), ("smiles", "smile"), ("waits", "wait"), ("laughs", "laugh"),
                ("sings", "sing"), ("swims", "swim"), ("falls", "fall")]  # fmt: skip
# The participants of the paraphrase and similarity events: one person and
# one animal, either of them the agent. Whether a rewrite keeps who did what
# to whom is then whether both sentences make the same kind (person or
# animal) the agent, a question of word order in each sentence; comparing
# two arbitrary nouns across the sentences took a small encoder trained from
# scratch far longer to learn than the CPU budget of the sizes.
ANIMALS = NOUNS[:4]
PEOPLE = NOUNS[4:]
PREPOSITIONS = ["near", "behind", "beside", "with"]

SUBJECTS = ["movie", "plot", "acting", "music", "ending", "cast", "script", "story", "dialogue", "soundtrack",
            "camera work", "pacing", "humour", "lead actor"]  # fmt: skip
POSITIVE = ["good", "great", "wonderful", "brilliant", "funny", "moving", "clever", "charming"]
NEGATIVE = ["bad", "awful", "boring", "dull", "weak", "terrible", "silly", "clumsy"]
INTENSIFIERS = ["", "", "really ", "very ", "quite "]

# Verb synonym groups (past tense, past participle): paraphrase and similarity.
VERB_GROUPS = [[("chased", "chased"), ("pursued", "pursued")], [("helped", "helped"), ("assisted", "assisted")],
               [("called", "called"), ("phoned", "phoned")], [("saw", "seen"), ("noticed", "noticed")],
               [("praised", "praised"), ("commended", "commended")], [("pushed", "pushed"), ("shoved", "shoved")],
               [("followed", "followed"), ("trailed", "trailed")], [("greeted", "greeted"), ("welcomed", "welcomed")],
               [("blamed", "blamed"), ("accused", "accused")], [("watched", "watched"), ("observed", "observed")]]  # fmt: skip
ADVERBIALS = ["", "", "yesterday", "on monday", "in the park", "at noon", "last week"]
PASSIVE = 0.0  # the share of sentences in the passive voice (see `_participants`)

# Entailment: (hyponym, hypernym) noun pairs, plural, and plural verbs.
HYPONYMS = [("dogs", "animals"), ("cats", "animals"), ("horses", "animals"), ("roses", "flowers"),
            ("tulips", "flowers"), ("cars", "vehicles"), ("trucks", "vehicles"), ("doctors", "people"),
            ("teachers", "people"), ("sparrows", "birds"), ("owls", "birds"), ("oaks", "trees")]  # fmt: skip
NLI_VERBS = ["sleep", "move", "grow", "shine", "wait", "change", "rest", "last"]
QUANTIFIERS = ("all", "some", "no", "not all")
NLI_LABELS = ("entailment", "neutral", "contradiction")
# Sentence frames by genre: the words around "{q} {n} {v}". The mismatched
# genres put the matched genres' words where training never has them.
MATCHED_GENRES = {"fiction": "{q} {n} {v}", "government": "{q} {n} {v} today", "telephone": "{q} {n} {v} in the city",
                  "slate": "here , {q} {n} {v}", "travel": "at first , {q} {n} {v}"}  # fmt: skip
MISMATCHED_GENRES = {"letters": "today , {q} {n} {v}", "verbatim": "{q} {n} {v} here", "oup": "{q} {n} {v} at first"}


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


# -- CoLA: acceptability -------------------------------------------------------------


def acceptability_example(rng, acceptable):
    """`(sentence, label)`: an acceptable clause, or one that breaks
    agreement or the order of two adjacent words."""
    number = int(rng.integers(2))  # 0 singular subject, 1 plural
    subject, other, third = (_pick(rng, NOUNS) for _ in range(3))
    template = int(rng.integers(3))
    verbs = TRANSITIVE if template != 1 else INTRANSITIVE
    verb = _pick(rng, verbs)
    agree = number if acceptable or rng.random() < 0.5 else 1 - number
    words = ["the", subject[number]]
    if template >= 1:  # a prepositional attractor of the other number
        words += [_pick(rng, PREPOSITIONS), "the", other[1 - number]]
    words.append(verb[agree])
    if template != 1:  # an object of the other number
        words += ["the", third[1 - number]]
    if not acceptable and agree == number:  # an order error: swap two adjacent words
        position = int(rng.integers(len(words) - 1))
        words[position], words[position + 1] = words[position + 1], words[position]
    return " ".join(words), "1" if acceptable else "0"


def acceptability(rng, count):
    return [acceptability_example(rng, rng.random() < 0.7) for _ in range(count)]


# -- SST-2: sentiment ---------------------------------------------------------------


def _clause(rng, polarity):
    negated = rng.random() < 0.4
    adjective = _pick(rng, POSITIVE if polarity != negated else NEGATIVE)
    return f"the {_pick(rng, SUBJECTS)} was {'not ' if negated else ''}{_pick(rng, INTENSIFIERS)}{adjective}"


def sentiment_example(rng, positive):
    """`(sentence, label)`: two clauses of opposite polarity; the one after
    the contrast decides."""
    decisive, other = _clause(rng, positive), _clause(rng, not positive)
    form = int(rng.integers(4))
    text = (f"{other} but {decisive}", f"{other} , but {decisive}", f"although {other} , {decisive}",
            f"{other} ; however , {decisive}")[form]  # fmt: skip
    return text, "1" if positive else "0"


def sentiment(rng, count):
    return [sentiment_example(rng, rng.random() < 0.55) for _ in range(count)]


# -- MRPC and STS-B: who did what to whom ------------------------------------------------


def _event(rng, agent, patient, verb, adverbial):
    """One sentence of an event, in a random voice, with the adverbial in front or behind."""
    (agent, _), (patient, patient_plural) = agent, patient
    if rng.random() >= PASSIVE:
        core = f"the {agent} {verb[0]} the {patient}"
    else:
        core = f"the {patient} {'were' if patient_plural else 'was'} {verb[1]} by the {agent}"
    if not adverbial:
        return core
    return f"{adverbial} {core}" if rng.random() < 0.5 else f"{core} {adverbial}"


def _participants(rng):
    """`[agent, patient]`, each `(noun, plural)`: a person and an animal in
    a random order."""
    person, animal = _pick(rng, PEOPLE), _pick(rng, ANIMALS)
    pair = [(person[int(p)], bool(p)) for p in [rng.integers(2)]] + [(animal[int(p)], bool(p)) for p in [rng.integers(2)]]
    return pair if rng.random() < 0.5 else pair[::-1]


def event_pair(rng, keep_roles, verb_change, adverbials=True):
    """Two sentences about an event; the second keeps or swaps the roles
    and keeps the verb ("same"), uses its synonym ("synonym") or another
    verb ("other"). Without `adverbials` both are bare clauses ("the girl
    chased the dog"), so who did what to whom sits at the same positions
    in every pair."""
    agent, patient = _participants(rng)
    group = int(rng.integers(len(VERB_GROUPS)))
    verb = _pick(rng, VERB_GROUPS[group])
    if verb_change == "same":
        second_verb = verb
    elif verb_change == "synonym":
        second_verb = next(v for v in VERB_GROUPS[group] if v != verb)
    else:
        other = (group + 1 + int(rng.integers(len(VERB_GROUPS) - 1))) % len(VERB_GROUPS)
        second_verb = _pick(rng, VERB_GROUPS[other])
    adverbial = _pick(rng, ADVERBIALS) if adverbials else ""
    first = _event(rng, agent, patient, verb, adverbial)
    roles = (agent, patient) if keep_roles else (patient, agent)
    return first, _event(rng, *roles, second_verb, adverbial)


def paraphrase(rng, count, adverbials=True):
    examples = []
    for _ in range(count):
        keep = rng.random() < 0.68
        first, second = event_pair(rng, keep, "same" if rng.random() < 0.5 else "synonym", adverbials)
        examples.append((first, second, "1" if keep else "0"))
    return examples


def similarity(rng, count, adverbials=True):
    examples = []
    for _ in range(count):
        keep = rng.random() < 0.5
        change = _pick(rng, ("same", "synonym", "other"))
        first, second = event_pair(rng, keep, change, adverbials)
        score = 5.0 * (2 * keep + (change != "other")) / 3 + rng.normal(0.0, 0.25)
        examples.append((first, second, round(float(np.clip(score, 0.0, 5.0)), 3)))
    return examples


# -- MNLI: quantifiers, negation and monotonicity ------------------------------------------


def _holds(quantifier, restrictor, predicate):
    inside = restrictor & predicate
    return {"all": restrictor <= predicate, "some": bool(inside), "no": not inside,
            "not all": not restrictor <= predicate}[quantifier]  # fmt: skip


def nli_label(premise_quantifier, hypothesis_quantifier, relation):
    """The NLI label of "Q1 A V" => "Q2 B V", by brute force over every
    model on 4 individuals with non-empty A and B, where `relation` says how
    the nouns relate: "same" (A = B), "narrower" (A is a strict subset of B:
    "dogs" => "animals") or "wider" (B is a strict subset of A).

    >>> nli_label("all", "some", "same"), nli_label("some", "all", "same"), nli_label("no", "some", "same")
    ('entailment', 'neutral', 'contradiction')
    >>> nli_label("no", "no", "wider"), nli_label("no", "no", "narrower")
    ('entailment', 'neutral')
    """
    return _NLI_TABLE[(premise_quantifier, hypothesis_quantifier, relation)]


def _nli_table():
    universe = range(4)
    subsets = [frozenset(c) for size in range(5) for c in itertools.combinations(universe, size)]
    table = {}
    for relation in ("same", "narrower", "wider"):
        pairs = [(a, b) for a in subsets for b in subsets if a and b and
                 {"same": a == b, "narrower": a < b, "wider": b < a}[relation]]  # fmt: skip
        for first, second in itertools.product(QUANTIFIERS, repeat=2):
            outcomes = {_holds(second, b, v) for a, b in pairs for v in subsets if _holds(first, a, v)}
            table[(first, second, relation)] = (
                "entailment" if outcomes == {True} else "contradiction" if outcomes == {False} else "neutral"
            )
    return table


_NLI_TABLE = _nli_table()
_NLI_BY_LABEL = {label: [key for key, value in _NLI_TABLE.items() if value == label] for label in NLI_LABELS}


def entailment_example(rng, label, genres):
    """`(premise, hypothesis, label, genre)` with the label drawn first."""
    first, second, relation = _pick(rng, _NLI_BY_LABEL[label])
    hyponym, hypernym = _pick(rng, HYPONYMS)
    nouns = {"same": (hyponym, hyponym), "narrower": (hyponym, hypernym), "wider": (hypernym, hyponym)}[relation]
    if relation == "same" and rng.random() < 0.5:
        nouns = (hypernym, hypernym)
    verb = _pick(rng, NLI_VERBS)
    genre = _pick(rng, sorted(genres))
    frame = genres[genre]
    return frame.format(q=first, n=nouns[0], v=verb), frame.format(q=second, n=nouns[1], v=verb), label, genre


def entailment(rng, count, genres):
    return [entailment_example(rng, NLI_LABELS[int(rng.integers(3))], genres) for _ in range(count)]


# -- splits --------------------------------------------------------------------------


def _unique(make, count, seen, rng, key):
    """`count` items from `make(rng, 1)` whose `key` is not in `seen` (added)."""
    items = []
    for _ in range(100 * count + 1000):
        if len(items) == count:
            return items
        item = make(rng, 1)[0]
        if key(item) not in seen:
            seen.add(key(item))
            items.append(item)
    raise ValueError(f"could not generate {count} distinct examples; ask for fewer.")


def _examples(items, task, labelled=True):
    if task == "MNLI":
        return [Example(str(i), a, b, label if labelled else None, genre) for i, (a, b, label, genre) in enumerate(items)]
    if task in ("CoLA", "SST-2"):
        return [Example(str(i), a, None, label if labelled else None) for i, (a, label) in enumerate(items)]
    return [Example(str(i), a, b, label if labelled else None) for i, (a, b, label) in enumerate(items)]


GENERATORS = {
    "CoLA": acceptability,
    "SST-2": sentiment,
    "MRPC": paraphrase,
    "STS-B": similarity,
}


def make_dataset(train_examples=4000, eval_examples=1000, seed=0, tasks=GENERATED_TASKS, adverbials=True):
    """The embedded data: `{task: {split: [Example, ...]}}` as `load_glue`
    returns it, but with the test labels kept (GLUE keeps them secret; here
    they let a submission be scored). `train_examples` and `eval_examples`
    are per task and split; MNLI also has "dev_mismatched",
    "test_mismatched" (genres never in training) and "diagnostic" (AX).
    `adverbials=False` leaves the adverbials out of the MRPC and STS-B
    sentences (`event_pair`; what the fast size trains on).

    >>> data = make_dataset(20, 5, seed=1)
    >>> sorted(data), sorted(data["MNLI"])
    (['CoLA', 'MNLI', 'MRPC', 'SST-2', 'STS-B'], ['dev_matched', 'dev_mismatched', 'diagnostic', 'test_matched', 'test_mismatched', 'train'])
    >>> data["MRPC"]["train"][0].label in ("0", "1")
    True
    """
    unknown = [task for task in tasks if task not in GENERATED_TASKS]
    if unknown:
        raise ValueError(f"`tasks` must be among {list(GENERATED_TASKS)}; received {unknown}.")
    data = {}
    for task in tasks:
        rng = np.random.default_rng([seed, GENERATED_TASKS.index(task)])  # a task's data does not depend on the others
        seen = set()
        if task == "MNLI":
            matched = lambda r, n: entailment(r, n, MATCHED_GENRES)  # noqa: E731
            mismatched = lambda r, n: entailment(r, n, MISMATCHED_GENRES)  # noqa: E731
            key = lambda item: item[:2]  # noqa: E731
            splits = {"train": _unique(matched, train_examples, seen, rng, key)}
            for split, make in (("dev_matched", matched), ("dev_mismatched", mismatched),
                                ("test_matched", matched), ("test_mismatched", mismatched), ("diagnostic", mismatched)):  # fmt: skip
                splits[split] = _unique(make, eval_examples, seen, rng, key)
        else:
            key = (lambda item: item[0]) if task in ("CoLA", "SST-2") else (lambda item: item[:2])
            make = GENERATORS[task]
            if task in ("MRPC", "STS-B") and not adverbials:
                make = functools.partial(make, adverbials=False)
            splits = {split: _unique(make, n, seen, rng, key)
                      for split, n in (("train", train_examples), ("dev", eval_examples), ("test", eval_examples))}  # fmt: skip
        data[task] = {split: _examples(items, task, labelled=split != "diagnostic") for split, items in splits.items()}
    return data


def write_dataset(directory, data):
    """Writes `make_dataset`'s data in the official GLUE layout (test files
    and the diagnostic without labels, as GLUE distributes them)."""
    unlabelled = {
        task: {split: [e if split.startswith(("train", "dev")) else _without_label(e) for e in examples]
               for split, examples in splits.items()}
        for task, splits in data.items()
    }  # fmt: skip
    return write_glue(directory, unlabelled)


def _without_label(example):
    return Example(example.index, example.text_a, example.text_b, None, example.genre)


def generated_directory(directory, train_examples, eval_examples, seed, adverbials=True):
    """Generates the embedded data and writes it under `directory` in the
    GLUE layout; returns `(directory, data)` (data with the test labels)."""
    data = make_dataset(train_examples, eval_examples, seed, adverbials=adverbials)
    os.makedirs(directory, exist_ok=True)
    return write_dataset(directory, data), data
