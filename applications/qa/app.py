"""Question answering: bAbI tasks 1, 2 and 6 with a memory network (or an
LSTM baseline), and extractive span QA (SQuAD v1.1 format) with
`BertEncoder` + `SpanQAHead`."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import string

import keras
import numpy as np

from applications import contract
from applications.qa import BABI_MODELS, SIZES, TASKS
from applications.qa.babi import load_babi, make_babi_dataset
from applications.qa.data import MAX_ANSWER_WORDS, load_squad, make_dataset
from applications.qa.memnet import LstmReader, MemoryNetwork
from keras_seq.models import BertEncoder, BertPretrainer, SpanQAHead, best_span
from keras_seq.text import Vocabulary, mlm_mask

PAD, CLS, SEP = Vocabulary.PAD, Vocabulary.SOS, Vocabulary.EOS
MASK_TOKEN = "[mask]"


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
    s = contract.choose(SIZES, size)
    if kind == "memn2n":
        model = MemoryNetwork(len(codec.vocabulary), codec.memory_size, embedding_dim=s.memory_dim, hops=3)
    elif kind == "lstm":
        model = LstmReader(len(codec.vocabulary), units=s.lstm_units, embedding_dim=s.memory_dim)
    else:
        raise ValueError(f"`model` must be one of {BABI_MODELS}; received {kind!r}.")
    return contract.compile_classifier(model, 5e-3 if kind == "memn2n" else 2e-3, clipnorm=40.0)


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
    s = contract.choose(SIZES, size)
    return BertEncoder(
        len(codec.vocabulary), codec.sequence_length, num_segments=1 + 2 * codec.sentence_segments,
        **contract.transformer_options(s),
    )


def build_span_model(encoder, size="default", steps=1000, max_answer_length=4):
    """`encoder` + `SpanQAHead`, AdamW with 10% warmup and cosine decay over `steps`."""
    s = contract.choose(SIZES, size)
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
    inputs = {"token_ids": token_ids, "segment_ids": segment_ids}
    sequence = encoder(inputs)["sequence_output"]
    start, end = SpanQAHead(max_answer_length, name="span_head")(
        sequence, padding_mask=keras.ops.not_equal(token_ids, PAD)
    )
    model = keras.Model(inputs, {"start": start, "end": end})
    warmup = max(1, steps // 10)
    rate = contract.schedule(s.learning_rate, steps - warmup, warmup_steps=warmup)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.AdamW(rate, weight_decay=0.01, clipnorm=1.0), loss={"start": loss, "end": loss})
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


def _babi_data(task, n_stories, eval_examples, seed, data, test_data):
    if data:
        train = load_babi(data)
        if test_data:
            return train, load_babi(test_data)
        return contract.held_out_split(train, max(1, len(train) // 10), seed)
    stories = max(1, -(-eval_examples // 5))
    return make_babi_dataset(int(task[4:]), n_stories, stories, seed=seed)


def train(size="default", *, task="babi1", model="memn2n", data=None, test_data=None, eval_examples=1000,
          **options):
    """Trains one QA model and scores it on held-out data.

    `task` is ``"babi1"``, ``"babi2"``, ``"babi6"`` (with `model`
    ``"memn2n"`` or ``"lstm"``; generated stories, or real bAbI files via
    `data`/`test_data`) or ``"squad"`` (span QA on generated passages, or a
    SQuAD v1.1 JSON via `data`). `train_examples` (in `options`, the common
    training options of `applications.contract.Training`) counts bAbI
    stories (5 questions each) or SQuAD questions.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    if task != "squad" and model not in BABI_MODELS:
        raise ValueError(f"`model` must be one of {BABI_MODELS}; received {model!r}.")
    run = contract.Training(SIZES, size, **options)
    if task == "squad":
        return _train_span(run, size, data, eval_examples)
    s = run.size
    train_set, test_set = _babi_data(task, run.train_examples or s.babi_stories, eval_examples, run.seed, data,
                                     test_data)
    codec = BabiCodec.fit(train_set + test_set)
    x, y = codec.encode(train_set)
    net, _ = run.fit(
        lambda: build_babi_model(model, codec, size), x, y, batch_size=run.batch_size,
        epochs=run.epochs or s.babi_epochs, validation_split=0.1,
    )  # fmt: skip
    accuracy, wrong = babi_accuracy(net, codec, test_set)
    if run.save(net):
        _write_sidecar(run, {"task": task, "model": model, **codec.config()})
    return run.result(
        net, len(test_set), task=task, kind=model, codec=codec, accuracy=accuracy,
        majority_baseline=majority_baseline(train_set, test_set), train_questions=len(train_set), examples=wrong,
    )  # fmt: skip


def _write_sidecar(run, meta):
    path = sidecar_path(run.output)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)
    run.wrote(path)


def _train_span(run, size, data, eval_examples):
    s = run.size
    if data:
        train_set, test = contract.held_out_split(load_squad(data), eval_examples, run.seed)
        length = 384
    else:
        train_set, test = make_dataset(run.train_examples or s.squad_examples, eval_examples, seed=run.seed)
        length = 64
    codec = SpanCodec.fit(train_set, length)
    x, y, kept = codec.encode(train_set)
    with run.strategy.scope():
        encoder = build_encoder(codec, size)
        pretrainer = BertPretrainer(encoder)
        pretrainer.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0))
    if s.squad_pretrain_epochs:
        pre_x, pre_y = codec.pretraining_data(train_set, run.seed + 1)
        run.fit(pretrainer, pre_x, pre_y, batch_size=run.batch_size, epochs=s.squad_pretrain_epochs,
                stage="pretraining")
    epochs = run.epochs or s.squad_epochs
    steps = epochs * -(-len(kept) // run.batch_size)
    net, history = run.fit(
        lambda: build_span_model(encoder, size, steps=steps, max_answer_length=max(4, MAX_ANSWER_WORDS)),
        x, y, batch_size=run.batch_size, epochs=epochs, stage="span",
    )  # fmt: skip
    result = span_scores(net, codec, test)
    if run.save(net):
        _write_sidecar(run, {"task": "squad", **codec.config()})
    eval_examples = result.pop("eval_examples")
    return run.result(net, eval_examples, task="squad", codec=codec, history=history, train_questions=len(kept),
                      **result)


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    if result["task"] == "squad":
        return f"span exact match {100 * result['exact_match']:.2f}%, F1 {100 * result['f1']:.2f}%"
    text = f"{result['task']} accuracy {100 * result['accuracy']:.2f}%"
    if "majority_baseline" in result:
        text += f" ({result['kind']}; majority-answer baseline {100 * result['majority_baseline']:.2f}%)"
    return text


def load(model_path):
    """The saved model, its task and its codec (from the JSON beside it)."""
    contract.check_exists(model_path)
    try:
        with open(sidecar_path(model_path), encoding="utf-8") as handle:
            meta = json.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{model_path} has no {sidecar_path(model_path)} beside it: not a qa model.") from None
    model = contract.load_model(model_path, "qa")
    codec = SpanCodec.from_config(meta) if meta["task"] == "squad" else BabiCodec.from_config(meta)
    return model, meta["task"], codec


def evaluate(model_path, examples=1000, seed=0, data=None):
    """Scores a saved model on generated held-out data (or a bAbI / SQuAD file)."""
    contract.check_count("examples", examples, allow_none=False)
    model, task, codec = load(model_path)
    if task == "squad":
        result = span_scores(model, codec, load_squad(data) if data else make_dataset(1, examples, seed=seed)[1])
        return dict(result, task=task)
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
    texts = contract.check_inputs(texts, "texts")
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
