"""Question answering: bAbI tasks 1, 2 and 6 with a memory network (or an
LSTM baseline), and extractive span QA (SQuAD v1.1 format) with
`BertEncoder` + `SpanQAHead`."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import string
import time

import keras
import numpy as np

from applications._common import choose, distribution, save
from applications.qa.babi import load_babi, make_babi_dataset
from applications.qa.data import MAX_ANSWER_WORDS, load_squad, make_dataset
from applications.qa.memnet import LstmReader, MemoryNetwork
from keras_seq.models import BertEncoder, BertPretrainer, SpanQAHead, best_span
from keras_seq.text import Vocabulary, mlm_mask

TASKS = ("babi1", "babi2", "babi6", "squad")
BABI_MODELS = ("memn2n", "lstm")
PAD, CLS, SEP = Vocabulary.PAD, Vocabulary.SOS, Vocabulary.EOS
MASK_TOKEN = "[mask]"


@dataclasses.dataclass(frozen=True)
class Size:
    babi_stories: int  # training stories; each asks 5 questions
    babi_epochs: int
    memory_dim: int
    lstm_units: int
    squad_examples: int
    squad_pretrain_epochs: int  # task-adaptive MLM + NSP on the training passages
    squad_epochs: int
    hidden_dim: int
    num_layers: int
    learning_rate: float
    batch_size: int


SIZES = {
    "fast": Size(200, 25, 32, 32, 4_000, 1, 4, 64, 2, 2e-3, 32),
    "default": Size(2_000, 20, 50, 64, 24_000, 1, 4, 128, 2, 1e-3, 32),
}


# --------------------------------------------------------------------------
# SQuAD answer normalisation and metrics.


_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 answer normalisation: lower-case, drop ASCII punctuation and
    the articles a/an/the, collapse whitespace.

    Example:
    >>> normalize_answer("The  Eiffel-Tower, (Paris)!")
    'eiffeltower paris'
    """
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, truths) -> float:
    """1.0 if the normalised prediction equals any normalised ground truth.

    Example:
    >>> exact_match("the Bus Driver.", ["bus driver"]), exact_match("bus", ["bus driver"])
    (1.0, 0.0)
    """
    truths = [truths] if isinstance(truths, str) else list(truths)
    return float(any(normalize_answer(prediction) == normalize_answer(t) for t in truths))


def f1(prediction: str, truths) -> float:
    """The best bag-of-tokens F1 of the normalised prediction against the
    ground truths (SQuAD v1.1).

    Example:
    >>> round(f1("march 2004", ["in march"]), 4)  # 1 common token: P = R = 1/2
    0.5
    """
    truths = [truths] if isinstance(truths, str) else list(truths)
    predicted = normalize_answer(prediction).split()
    best = 0.0
    for truth in truths:
        expected = normalize_answer(truth).split()
        common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


# --------------------------------------------------------------------------
# bAbI.


def words(text: str) -> list[str]:
    """Lower-cased word tokens (punctuation dropped).

    >>> words("Where is Mary? ")
    ['where', 'is', 'mary']
    """
    return re.findall(r"[a-z0-9]+", text.lower())


@dataclasses.dataclass
class BabiCodec:
    """Word ids for the memory slots (most recent sentence first), the
    question and the one-word answer."""

    vocabulary: Vocabulary
    memory_size: int
    sentence_length: int
    question_length: int

    @classmethod
    def fit(cls, examples, memory_limit=50):
        texts = [" ".join(words(" ".join(e["story"] + [e["question"], e["answer"]]))) for e in examples]
        vocabulary = Vocabulary.build(texts, level="word")
        return cls(
            vocabulary,
            min(memory_limit, max(len(e["story"]) for e in examples)),
            max(len(words(s)) for e in examples for s in e["story"]),
            max(len(words(e["question"])) for e in examples),
        )

    def ids(self, text, length):
        row = [self.vocabulary.token_to_id(w) for w in words(text)][:length]
        return row + [PAD] * (length - len(row))

    def encode(self, examples):
        story = np.zeros((len(examples), self.memory_size, self.sentence_length), "int32")
        question = np.zeros((len(examples), self.question_length), "int32")
        answer = np.zeros((len(examples),), "int32")
        for i, example in enumerate(examples):
            for slot, sentence in enumerate(reversed(example["story"][-self.memory_size :])):
                story[i, slot] = self.ids(sentence, self.sentence_length)
            question[i] = self.ids(example["question"], self.question_length)
            answer[i] = self.vocabulary.token_to_id(example["answer"].lower())
        return {"story": story, "question": question}, answer

    def config(self):
        return {
            "vocabulary": self.vocabulary.tokens[4:],
            "memory_size": self.memory_size,
            "sentence_length": self.sentence_length,
            "question_length": self.question_length,
        }

    @classmethod
    def from_config(cls, config):
        return cls(
            Vocabulary(config["vocabulary"], level="word"),
            config["memory_size"],
            config["sentence_length"],
            config["question_length"],
        )


def build_babi_model(kind, codec, size="default"):
    s = choose(SIZES, size)
    if kind == "memn2n":
        model = MemoryNetwork(len(codec.vocabulary), codec.memory_size, embedding_dim=s.memory_dim, hops=3)
    elif kind == "lstm":
        model = LstmReader(len(codec.vocabulary), units=s.lstm_units, embedding_dim=s.memory_dim)
    else:
        raise ValueError(f"`model` must be one of {BABI_MODELS}; received {kind!r}.")
    model.compile(
        keras.optimizers.Adam(5e-3 if kind == "memn2n" else 2e-3, clipnorm=40.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def babi_accuracy(model, codec, examples):
    x, y = codec.encode(examples)
    predicted = np.argmax(model.predict(x, batch_size=512, verbose=0), axis=-1)
    wrong = [
        (" ".join(e["story"][-3:]) + " | " + e["question"], codec.vocabulary.id_to_token(int(p)), e["answer"])
        for e, p, t in zip(examples, predicted, y)
        if p != t
    ]
    return float(np.mean(predicted == y)), wrong


def majority_baseline(train, test):
    """Accuracy of always answering the most frequent training answer."""
    common = collections.Counter(e["answer"] for e in train).most_common(1)[0][0]
    return float(np.mean([e["answer"] == common for e in test]))


# --------------------------------------------------------------------------
# Span QA.


def _bare(word):
    return word.lower().strip(string.punctuation)


@dataclasses.dataclass
class SpanCodec:
    """`[CLS] question [SEP] context [SEP]` word ids and token types.

    Token type (segment id) 0 is the question; a context word of sentence i
    (sentences end with a word ending in ".", "!" or "?"; i is capped at
    `sentence_segments - 1`) gets 1 + 2 i, plus 1 if the word also occurs in
    the question (case and punctuation ignored): DrQA's exact-match feature
    (Chen et al., 2017) carried by BERT's token-type embedding. Attention can
    then tell the sentences apart and see which words the question mentions.
    """

    vocabulary: Vocabulary
    sequence_length: int
    sentence_segments: int = 8

    @classmethod
    def fit(cls, examples, sequence_length):
        texts = [e["question"] + " " + e["context"] for e in examples]
        built = Vocabulary.build(texts, level="word", lowercase=True)
        return cls(Vocabulary([*built.tokens[4:], MASK_TOKEN], level="word", lowercase=True), sequence_length)

    @property
    def mask_id(self):
        return self.vocabulary.token_to_id(MASK_TOKEN)

    def pair(self, question, context_words):
        """`(token ids, segment ids, first context position)`, padded."""
        vocabulary, length = self.vocabulary, self.sequence_length
        question_words = question.split()[: length // 2]
        question = [vocabulary.token_to_id(w) for w in question_words]
        first = len(question) + 2
        context = [vocabulary.token_to_id(w) for w in context_words[: length - first - 1]]
        asked = {_bare(w) for w in question_words} - {""}
        sentence, segments = 0, [0] * first
        for word in context_words[: len(context)]:
            segments.append(1 + 2 * min(sentence, self.sentence_segments - 1) + (_bare(word) in asked))
            sentence += word.endswith((".", "!", "?"))
        row = [CLS, *question, SEP, *context, SEP]
        segments.append(1)
        pad = length - len(row)
        return row + [PAD] * pad, segments + [0] * pad, first

    def encode(self, examples):
        """Inputs, `{"start", "end"}` targets (token positions) and the kept
        examples (those whose answer fits in `sequence_length`)."""
        length = self.sequence_length
        tokens, segments, starts, ends, kept = [], [], [], [], []
        for example in examples:
            row, seg, first = self.pair(example["question"], example["context"].split())
            if first + example["answer_end_word"] >= length - 1:
                continue
            tokens.append(row)
            segments.append(seg)
            starts.append(first + example["answer_start_word"])
            ends.append(first + example["answer_end_word"])
            kept.append(example)
        x = {
            "token_ids": np.array(tokens, "int32").reshape(-1, length),
            "segment_ids": np.array(segments, "int32").reshape(-1, length),
        }
        return x, {"start": np.array(starts, "int32"), "end": np.array(ends, "int32")}, kept

    def pretraining_data(self, examples, seed):
        """Task-adaptive MLM + NSP data from the passages and questions (no
        answers): half the pairs get another passage's question (NSP label
        0), and 15% of the tokens are masked (80/10/10)."""
        rng = np.random.default_rng(seed)
        rows, segments, labels = [], [], []
        for i, example in enumerate(examples):
            question, is_next = example["question"], 1
            if len(examples) > 1 and rng.random() < 0.5:
                other = int(rng.integers(len(examples) - 1))
                question, is_next = examples[other + (other >= i)]["question"], 0
            row, seg, _ = self.pair(question, example["context"].split())
            rows.append(row)
            segments.append(seg)
            labels.append(is_next)
        inputs, mlm_labels, weights = mlm_mask(
            np.array(rows, "int32"), len(self.vocabulary), self.mask_id,
            special_ids=(PAD, Vocabulary.UNK, CLS, SEP), seed=seed,
        )
        x = {"token_ids": inputs, "segment_ids": np.array(segments, "int32")}
        return x, {"mlm_labels": mlm_labels, "mlm_weights": weights, "nsp_labels": np.array(labels, "int32")}

    def config(self):
        return {
            "vocabulary": self.vocabulary.tokens[4:],
            "sequence_length": self.sequence_length,
            "sentence_segments": self.sentence_segments,
        }

    @classmethod
    def from_config(cls, config):
        return cls(
            Vocabulary(config["vocabulary"], level="word", lowercase=True),
            config["sequence_length"],
            config["sentence_segments"],
        )


def build_encoder(codec, size="default"):
    s = choose(SIZES, size)
    return BertEncoder(
        len(codec.vocabulary),
        codec.sequence_length,
        num_layers=s.num_layers,
        hidden_dim=s.hidden_dim,
        num_heads=4,
        intermediate_dim=4 * s.hidden_dim,
        dropout=0.1,
        num_segments=1 + 2 * codec.sentence_segments,
    )


def build_span_model(encoder, size="default", steps=1000, max_answer_length=4):
    """`encoder` + `SpanQAHead`, AdamW with 10% warmup and cosine decay over `steps`."""
    s = choose(SIZES, size)
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
    inputs = {"token_ids": token_ids, "segment_ids": segment_ids}
    sequence = encoder(inputs)["sequence_output"]
    start, end = SpanQAHead(max_answer_length, name="span_head")(
        sequence, padding_mask=keras.ops.not_equal(token_ids, PAD)
    )
    model = keras.Model(inputs, {"start": start, "end": end})
    warmup = max(1, steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), warmup_target=s.learning_rate, warmup_steps=warmup
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=1.0), loss={"start": loss, "end": loss})
    return model


def predict_spans(model, codec, examples, max_answer_length=4):
    """Answer texts (context words of the best span) for the examples that fit."""
    x, y, kept = codec.encode(examples)
    logits = model.predict(x, batch_size=256, verbose=0)
    start, end, _ = best_span(logits["start"], logits["end"], max_answer_length, mask=x["token_ids"] != PAD)
    answers = []
    for s_, e_, tokens, example in zip(np.asarray(start), np.asarray(end), x["token_ids"], kept):
        first = int(np.argmax(tokens == SEP)) + 1
        context = example["context"].split()
        s_, e_ = int(s_) - first, int(e_) - first
        answers.append(" ".join(context[s_ : e_ + 1]) if 0 <= s_ <= e_ < len(context) else "")
    return answers, kept


def span_scores(model, codec, examples):
    answers, kept = predict_spans(model, codec, examples)
    em = [exact_match(a, e["answer_text"]) for a, e in zip(answers, kept)]
    f = [f1(a, e["answer_text"]) for a, e in zip(answers, kept)]
    wrong = [
        (e["question"] + " | " + e["context"], a, e["answer_text"]) for a, e, m in zip(answers, kept, em) if not m
    ]
    return {
        "exact_match": float(np.mean(em)),
        "f1": float(np.mean(f)),
        "chance_exact_match": chance_exact_match(codec, kept),
        "eval_examples": len(kept),
        "examples": wrong,
    }


def chance_exact_match(codec, examples, max_answer_length=4):
    """Expected exact match of a uniformly random valid span (at most
    `max_answer_length` context words, within the encoded length): the
    baseline the span model must beat."""
    x, _, kept = codec.encode(examples)
    chances = []
    for tokens in x["token_ids"]:
        n = int(np.sum(tokens != PAD)) - int(np.argmax(tokens == SEP)) - 2  # context tokens
        spans = sum(max(0, n - width + 1) for width in range(1, max_answer_length + 1))
        chances.append(1.0 / max(spans, 1))
    return float(np.mean(chances))


# --------------------------------------------------------------------------
# Train / evaluate / predict.


def sidecar_path(model_path):
    """The JSON beside a saved model with its task and vocabulary."""
    return str(model_path).removesuffix(".keras") + ".qa.json"


def _callbacks(log_dir):
    return [keras.callbacks.TensorBoard(log_dir=log_dir)] if log_dir else []


def _babi_data(task, n_stories, eval_examples, seed, data, test_data):
    if data:
        train = load_babi(data)
        test = load_babi(test_data) if test_data else None
        if test is None:
            order = np.random.default_rng(seed).permutation(len(train))
            held = max(1, len(train) // 10)
            test, train = [train[i] for i in order[:held]], [train[i] for i in order[held:]]
        return train, test
    stories = max(1, -(-eval_examples // 5))
    return make_babi_dataset(int(task[4:]), n_stories, stories, seed=seed)


def train(
    size="default",
    task="babi1",
    model="memn2n",
    epochs=None,
    batch_size=None,
    train_examples=None,
    seed=0,
    data=None,
    test_data=None,
    log_dir=None,
    output=None,
    strategy="auto",
    num_cpu_devices=None,
    eval_examples=1000,
    verbose=1,
):
    """Trains one QA model and scores it on held-out data.

    `task` is ``"babi1"``, ``"babi2"``, ``"babi6"`` (with `model`
    ``"memn2n"`` or ``"lstm"``; generated stories, or real bAbI files via
    `data`/`test_data`) or ``"squad"`` (span QA on generated passages, or a
    SQuAD v1.1 JSON via `data`). `train_examples` counts bAbI stories (5
    questions each) or SQuAD questions.
    """
    s = choose(SIZES, size)
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    chosen = distribution(strategy, num_cpu_devices)
    keras.utils.set_random_seed(seed)
    batch_size = batch_size or s.batch_size
    if task == "squad":
        return _train_span(s, size, epochs, batch_size, train_examples, seed, data, log_dir, output, chosen,
                           eval_examples, verbose)
    if model not in BABI_MODELS:
        raise ValueError(f"`model` must be one of {BABI_MODELS}; received {model!r}.")
    train_set, test_set = _babi_data(task, train_examples or s.babi_stories, eval_examples, seed, data, test_data)
    codec = BabiCodec.fit(train_set + test_set)
    x, y = codec.encode(train_set)
    with chosen.scope():
        net = build_babi_model(model, codec, size)
    started = time.perf_counter()
    history = net.fit(
        x, y, batch_size=batch_size, epochs=epochs or s.babi_epochs, validation_split=0.1,
        callbacks=_callbacks(log_dir), verbose=verbose,
    )
    seconds = time.perf_counter() - started
    accuracy, wrong = babi_accuracy(net, codec, test_set)
    save(net, output)
    if output:
        with open(sidecar_path(output), "w", encoding="utf-8") as handle:
            json.dump({"task": task, "model": model, **codec.config()}, handle)
    return {
        "task": task,
        "kind": model,
        "model": net,
        "codec": codec,
        "accuracy": accuracy,
        "majority_baseline": majority_baseline(train_set, test_set),
        "history": history.history,
        "train_seconds": seconds,
        "replicas": chosen.num_replicas_in_sync,
        "eval_examples": len(test_set),
        "train_questions": len(train_set),
        "examples": wrong,
    }


def _train_span(s, size, epochs, batch_size, train_examples, seed, data, log_dir, output, chosen, eval_examples,
                verbose):
    if data:
        examples = load_squad(data)
        order = np.random.default_rng(seed).permutation(len(examples))
        held = max(1, min(eval_examples, len(examples) // 10))
        test = [examples[i] for i in order[:held]]
        train_set = [examples[i] for i in order[held:]]
        length = 384
    else:
        train_set, test = make_dataset(train_examples or s.squad_examples, eval_examples, seed=seed)
        length = 64
    codec = SpanCodec.fit(train_set, length)
    x, y, kept = codec.encode(train_set)
    with chosen.scope():
        encoder = build_encoder(codec, size)
        pretrainer = BertPretrainer(encoder)
        pretrainer.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0))
    started = time.perf_counter()
    if s.squad_pretrain_epochs:
        pre_x, pre_y = codec.pretraining_data(train_set, seed + 1)
        callbacks = [keras.callbacks.TensorBoard(log_dir=f"{log_dir}/pretraining")] if log_dir else []
        pretrainer.fit(pre_x, pre_y, batch_size=batch_size, epochs=s.squad_pretrain_epochs,
                       callbacks=callbacks, verbose=verbose)
    epochs = epochs or s.squad_epochs
    steps = epochs * -(-len(kept) // batch_size)
    with chosen.scope():
        net = build_span_model(encoder, size, steps=steps, max_answer_length=max(4, MAX_ANSWER_WORDS))
    history = net.fit(
        x, y, batch_size=batch_size, epochs=epochs, callbacks=_callbacks(log_dir and f"{log_dir}/span"),
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    result = span_scores(net, codec, test)
    save(net, output)
    if output:
        with open(sidecar_path(output), "w", encoding="utf-8") as handle:
            json.dump({"task": "squad", **codec.config()}, handle)
    result.update(
        task="squad", model=net, codec=codec, history=history.history, train_seconds=seconds,
        replicas=chosen.num_replicas_in_sync, train_questions=len(kept),
    )
    return result


def load(model_path):
    """The saved model, its task and its codec."""
    try:
        with open(sidecar_path(model_path), encoding="utf-8") as handle:
            meta = json.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{model_path} has no {sidecar_path(model_path)} beside it: not a qa model.") from None
    model = keras.models.load_model(model_path)
    codec = SpanCodec.from_config(meta) if meta["task"] == "squad" else BabiCodec.from_config(meta)
    return model, meta["task"], codec


def evaluate(model_path, examples=1000, seed=0, data=None):
    """Scores a saved model on generated held-out data (or a bAbI / SQuAD file)."""
    model, task, codec = load(model_path)
    if task == "squad":
        return span_scores(model, codec, load_squad(data) if data else make_dataset(1, examples, seed=seed)[1])
    test = load_babi(data) if data else _babi_data(task, 1, examples, seed, None, None)[1]
    accuracy, wrong = babi_accuracy(model, codec, test)
    return {"task": task, "accuracy": accuracy, "eval_examples": len(test), "examples": wrong}


def split_story(text: str) -> list[str]:
    """Sentences of a story written on one line.

    >>> split_story("Mary went to the garden. John moved to the office.")
    ['Mary went to the garden.', 'John moved to the office.']
    """
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def predict(model_path, texts):
    """Answers ``"story | question"`` (bAbI) or ``"question | context"``
    (span QA) strings."""
    model, task, codec = load(model_path)
    parsed = []
    for text in texts:
        if "|" not in text:
            expected = "question | context" if task == "squad" else "story | question"
            raise ValueError(f"`texts` items must be '{expected}'; received {text!r}.")
        parsed.append([part.strip() for part in text.split("|", 1)])
    if task == "squad":
        examples = [
            {"question": q.lower(), "context": c.lower(), "answer_text": "", "answer_start": 0,
             "answer_start_word": 0, "answer_end_word": 0}
            for q, c in parsed
        ]
        return predict_spans(model, codec, examples)[0]
    examples = [{"story": split_story(story), "question": q, "answer": ""} for story, q in parsed]
    x, _ = codec.encode(examples)
    predicted = np.argmax(model.predict(x, verbose=0), axis=-1)
    return [codec.vocabulary.id_to_token(int(p)) for p in predicted]
