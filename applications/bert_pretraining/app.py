"""BERT pretraining (MLM + NSP) from scratch, then fine-tuning for span QA
and for classification."""

from __future__ import annotations

import string

import keras
import numpy as np

from applications import contract
from applications.bert_pretraining import SIZES
from applications.bert_pretraining.data import load_corpus, load_lee_documents
from applications.qa.data import make_dataset as make_qa_dataset
from keras_seq.models import BertEncoder, BertPretrainer, SpanQAHead, best_span
from keras_seq.text import mlm_mask, nsp_pairs
from keras_seq.text.tokenizer import WordPieceTokenizer
from keras_seq.text.wordpiece import train_wordpiece

PAD, UNK, CLS, SEP, MASK = range(5)


QA_LENGTH = 64  # [CLS] question [SEP] passage [SEP] in word pieces (longest generated: 59)


class WordPieces:
    """The WordPiece tokenizer and the id layout of `[CLS] a [SEP] b [SEP]`."""

    def __init__(self, vocabulary):
        self.vocabulary = list(vocabulary)
        self.tokenizer = WordPieceTokenizer(self.vocabulary)

    def __len__(self):
        return len(self.vocabulary)

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(self.vocabulary) + "\n")

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\n") for line in f if line.rstrip("\n")])

    def ids(self, texts):
        return [np.asarray(r, "int32") for r in self.tokenizer(list(texts))]

    def pair(self, a, b, length):
        """`[CLS] a [SEP] b [SEP]` truncated to `length` (longer side first),
        padded; returns `(token_ids, segment_ids)`."""
        a, b = list(a), list(b)
        while len(a) + len(b) > length - 3:
            (a if len(a) > len(b) else b).pop()
        tokens = [CLS, *a, SEP, *b, SEP]
        segments = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        pad = length - len(tokens)
        return np.array(tokens + [PAD] * pad, "int32"), np.array(segments + [0] * pad, "int32")


def pretraining_data(documents, pieces, length, copies, seed, extra=None):
    """NSP pairs (half true next sentence) with MLM corruption (15%; 80/10/10),
    `copies` times with fresh pairs and masks; `extra` adds rows
    `(token_ids, segment_ids, is_next)` (see `qa_pretraining_rows`)."""
    rows, segments, labels = [], [], []
    if extra is not None:
        rows, segments, labels = list(extra[0]), list(extra[1]), list(extra[2])
    for copy in range(copies):
        for a, b, is_next in nsp_pairs(documents, seed=seed + copy):
            token_ids, segment_ids = pieces.pair(*pieces.ids([a, b]), length)
            rows.append(token_ids)
            segments.append(segment_ids)
            labels.append(is_next)
    token_ids = np.stack(rows)
    inputs, mlm_labels, weights = mlm_mask(
        token_ids, len(pieces), MASK, special_ids=(PAD, UNK, CLS, SEP, MASK), seed=seed
    )
    x = {"token_ids": inputs, "segment_ids": np.stack(segments)}
    y = {"mlm_labels": mlm_labels, "mlm_weights": weights, "nsp_labels": np.array(labels, "int32")}
    return x, y


def _bare(word):
    return word.lower().strip(string.punctuation)


def qa_pair(pieces, question, words, length, sentence_segments=1, question_match=False):
    """Ids and segments of `[CLS] question [SEP] passage [SEP]` (padded to
    `length`, the passage truncated).

    Segment ids (BERT's token types) are 0 for the question; the passage is
    segment 1, or with `sentence_segments=n > 1` its sentence i (words up to
    one ending in ".", "!" or "?") is segment 1 + min(i, n - 1). With
    `question_match=True` a passage word that also occurs in the question
    (case and punctuation ignored) gets the type of its sentence's "in the
    question" twin, 1 + 2 min(i, n - 1) + 1 (DrQA's exact-match feature,
    Chen et al. 2017, carried by the token-type embedding), so there are
    1 + 2n types. Returns `(token_ids, segment_ids, first, offsets)`: the
    position of the passage's first piece and each word's offset in pieces.
    """
    asked = {_bare(w) for w in question.split()} - {""} if question_match else set()
    question = np.concatenate(pieces.ids(question.split())) if question.split() else np.zeros(0, "int32")
    word_pieces = pieces.ids(words)
    offsets = np.cumsum([0] + [len(p) for p in word_pieces])
    first = len(question) + 2
    tokens, segments, sentence = [CLS, *question, SEP], [0] * first, 0
    for word, piece in zip(words, word_pieces):
        index = min(sentence, sentence_segments - 1)
        segment = 1 + 2 * index + (_bare(word) in asked) if question_match else 1 + index
        segments.extend([segment] * len(piece))
        tokens.extend(piece)
        sentence += word.endswith((".", "!", "?"))
    tokens, segments = tokens[: length - 1], segments[: length - 1]
    tokens.append(SEP)
    segments.append(1)
    pad = length - len(tokens)
    return (np.array(tokens + [PAD] * pad, "int32"), np.array(segments + [0] * pad, "int32"), first, offsets)


def qa_data(examples, pieces, length, sentence_segments=1, question_match=False):
    """`[CLS] question [SEP] context [SEP]` (see `qa_pair`) with the answer's
    word span mapped to word-piece positions; examples whose answer is
    truncated are dropped."""
    token_ids, segment_ids, starts, ends, kept = [], [], [], [], []
    for example in examples:
        tokens, segments, first, offsets = qa_pair(
            pieces, example["question"], example["context"].split(), length, sentence_segments, question_match
        )
        start = first + offsets[example["answer_start_word"]]
        end = first + offsets[example["answer_end_word"] + 1] - 1
        if end >= length - 1:
            continue
        token_ids.append(tokens)
        segment_ids.append(segments)
        starts.append(start)
        ends.append(end)
        kept.append(example)
    x = {
        "token_ids": np.array(token_ids, "int32").reshape(-1, length),
        "segment_ids": np.array(segment_ids, "int32").reshape(-1, length),
    }
    return x, {"start": np.array(starts), "end": np.array(ends)}, kept


def qa_pretraining_rows(examples, pieces, length, sentence_segments, seed, question_match=False):
    """Task-adaptive pretraining pairs: `[CLS] question [SEP] passage [SEP]`
    where half the questions are replaced by another passage's question (the
    NSP label says whether the question belongs to the passage); no answers
    are used. Returns `(token_ids, segment_ids, is_next)`."""
    rng = np.random.default_rng(seed)
    rows, segments, labels = [], [], []
    for i, example in enumerate(examples):
        question, is_next = example["question"], 1
        if rng.random() < 0.5 and len(examples) > 1:
            other = int(rng.integers(len(examples) - 1))
            question, is_next = examples[other + (other >= i)]["question"], 0
        tokens, segment_ids, _, _ = qa_pair(
            pieces, question, example["context"].split(), length, sentence_segments, question_match
        )
        rows.append(tokens)
        segments.append(segment_ids)
        labels.append(is_next)
    return rows, segments, labels


def build_qa_model(encoder, max_answer_length=4, learning_rate=5e-4, steps=None):
    """Encoder + `SpanQAHead`; with `steps`, AdamW with 10% linear warmup and
    cosine decay to 0 over `steps`, else Adam at `learning_rate`."""
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
    sequence = encoder({"token_ids": token_ids, "segment_ids": segment_ids})["sequence_output"]
    start, end = SpanQAHead(max_answer_length, name="span_head")(
        sequence, padding_mask=keras.ops.not_equal(token_ids, PAD)
    )
    model = keras.Model({"token_ids": token_ids, "segment_ids": segment_ids}, {"start": start, "end": end})
    if steps:
        warmup = max(1, steps // 10)
        optimizer = keras.optimizers.AdamW(
            contract.schedule(learning_rate, steps - warmup, warmup_steps=warmup), weight_decay=0.01, clipnorm=1.0
        )
    else:
        optimizer = keras.optimizers.Adam(learning_rate)
    model.compile(
        optimizer,
        loss={
            "start": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "end": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
    )
    return model


def span_exact_match(model, x, y, max_answer_length=4):
    logits = model.predict(x, batch_size=256, verbose=0)
    start, end, _ = best_span(logits["start"], logits["end"], max_answer_length, mask=x["token_ids"] != PAD)
    return float(np.mean((np.asarray(start) == y["start"]) & (np.asarray(end) == y["end"])))


def train(size="default", *, data=None, eval_examples=1000, **options):
    """Pretrains on the Lee corpus (or `data` in BERT's format), reports MLM
    accuracy on held-out documents before and after, then fine-tunes the
    pretrained encoder for span QA on generated passages.

    Pretraining is domain- and task-adaptive: the WordPiece vocabulary is
    learned on the corpus plus the first `qa_pretrain_examples` training
    passages and questions, and those (question, passage) pairs join the
    corpus' sentence pairs for MLM + NSP (half the questions swapped for
    another passage's; no answers are used). Span-QA inputs mark each passage
    word's sentence and whether it occurs in the question through the token
    types (`qa_pair`); fine-tuning uses AdamW with warmup and cosine decay
    and logs held-out exact match after every epoch.

    `options` are the common training options of
    `applications.contract.Training`; `epochs` overrides the pretraining
    epochs and `train_examples` the number of QA fine-tuning examples.
    """
    run = contract.Training(SIZES, size, **options)
    s = run.size
    documents = load_corpus(data) if data else load_lee_documents()
    order = np.random.default_rng(run.seed).permutation(len(documents))
    held = max(2, len(documents) // 10)
    test_documents = [documents[i] for i in order[:held]]
    train_documents = [documents[i] for i in order[held:]]
    qa_train, qa_test = make_qa_dataset(run.train_examples or s.qa_examples, eval_examples, seed=run.seed)
    # Domain adaptation: the word pieces are learned on the pretraining text
    # and the QA training passages and questions, so names, cities and
    # numbers are whole pieces.
    adaptation = qa_train[: s.qa_pretrain_examples]
    sentences = [sentence for document in train_documents for sentence in document]
    sentences += [e["context"] for e in adaptation] + [e["question"] for e in adaptation]
    with contract.stage("learning the WordPiece vocabulary"):
        pieces = WordPieces(train_wordpiece(sentences, s.vocabulary_size))
    segments = s.sentence_segments
    extra = qa_pretraining_rows(adaptation, pieces, s.sequence_length, segments, run.seed + 7, question_match=True)
    x, y = pretraining_data(train_documents, pieces, s.sequence_length, s.mask_copies, run.seed, extra=extra)
    test_x, test_y = pretraining_data(test_documents, pieces, s.sequence_length, 1, run.seed + 99)

    with run.strategy.scope():
        encoder = BertEncoder(
            len(pieces), max(s.sequence_length, QA_LENGTH), num_segments=1 + 2 * segments,
            **contract.transformer_options(s),
        )
        pretrainer = BertPretrainer(encoder)
        pretrainer.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0))
    before = pretrainer.evaluate(test_x, test_y, batch_size=run.batch_size, verbose=0, return_dict=True)
    _, history = run.fit(
        pretrainer, x, y, batch_size=run.batch_size, epochs=run.epochs or s.pretrain_epochs,
        validation_data=(test_x, test_y), stage="pretraining",
    )  # fmt: skip
    pretrain_seconds = run.train_seconds
    after = pretrainer.evaluate(test_x, test_y, batch_size=run.batch_size, verbose=0, return_dict=True)

    qa_x, qa_y, _ = qa_data(qa_train, pieces, QA_LENGTH, segments, question_match=True)
    qa_test_x, qa_test_y, qa_kept = qa_data(qa_test, pieces, QA_LENGTH, segments, question_match=True)
    steps = s.qa_epochs * -(-len(qa_y["start"]) // run.batch_size)
    qa_model, qa_history = run.fit(
        lambda: build_qa_model(encoder, learning_rate=s.qa_learning_rate, steps=steps),
        qa_x, qa_y, batch_size=run.batch_size, epochs=s.qa_epochs, stage="qa",
        callbacks=[ExactMatchLogger(qa_test_x, qa_test_y, verbose=run.verbose)],
    )  # fmt: skip
    exact = span_exact_match(qa_model, qa_test_x, qa_test_y)
    if run.save(qa_model):
        pieces.save(vocabulary_path(run.output))
        run.wrote(vocabulary_path(run.output))
    return run.result(
        qa_model, len(qa_kept), pretrainer=pretrainer, pieces=pieces, history=history, qa_history=qa_history,
        mlm_accuracy_before=before["mlm_accuracy"], mlm_accuracy_after=after["mlm_accuracy"],
        nsp_accuracy_after=after["nsp_accuracy"], qa_exact_match=exact, pretrain_seconds=pretrain_seconds,
    )  # fmt: skip


def describe(result):
    """The metric line of a `train`/`evaluate` result."""
    parts = []
    if "mlm_accuracy_before" in result:
        parts.append(
            f"MLM accuracy on held-out documents {100 * result['mlm_accuracy_before']:.1f}% before, "
            f"{100 * result['mlm_accuracy_after']:.1f}% after pretraining; "
            f"NSP accuracy {100 * result['nsp_accuracy_after']:.1f}%;"
        )
    parts.append(f"span-QA exact match {100 * result['qa_exact_match']:.2f}%")
    return " ".join(parts)


class ExactMatchLogger(keras.callbacks.Callback):
    """Adds held-out span exact match to each epoch's logs (and TensorBoard)."""

    def __init__(self, x, y, verbose=1):
        super().__init__()
        self.x, self.y, self.verbose = x, y, verbose

    def on_epoch_end(self, epoch, logs=None):
        exact = span_exact_match(self.model, self.x, self.y)
        if logs is not None:
            logs["val_exact_match"] = exact
        if self.verbose:
            print(f"epoch {epoch + 1}: held-out span exact match {100 * exact:.2f}%", flush=True)


def vocabulary_path(model_path):
    """The WordPiece `vocab.txt` saved beside a model (as BERT checkpoints do)."""
    return str(model_path).removesuffix(".keras") + ".vocab.txt"


def load(model_path):
    """The fine-tuned QA model, its WordPiece vocabulary and its input
    layout `(length, sentence_segments)`."""
    model = contract.load_model(
        model_path, "bert_pretraining", check=lambda m: any(isinstance(layer, SpanQAHead) for layer in m.layers)
    )
    encoder = next(layer for layer in model.layers if isinstance(layer, BertEncoder))
    layout = (min(QA_LENGTH, encoder.sequence_length), (encoder.num_segments - 1) // 2)
    return model, WordPieces.load(vocabulary_path(model_path)), layout


def evaluate(model_path, examples=1000, seed=0, data=None):
    """Span exact match on generated QA examples (or a SQuAD v1.1 file;
    questions whose answer lies beyond the model's input length are left out)."""
    from applications.qa.data import load_squad

    contract.check_count("examples", examples, allow_none=False)
    model, pieces, (length, segments) = load(model_path)
    qa = load_squad(data) if data else make_qa_dataset(1, examples, seed=seed)[1]
    x, y, kept = qa_data(qa, pieces, length, segments, question_match=True)
    return {"qa_exact_match": span_exact_match(model, x, y), "eval_examples": len(kept), "examples": []}


def predict(model_path, texts):
    """Answers `"question | context"` strings with the best span."""
    texts = contract.check_inputs(texts, "texts")
    for text in texts:
        if "|" not in text:
            raise ValueError(f"`texts` items must be 'question | context'; received {text!r}.")
    model, pieces, (length, segments) = load(model_path)
    lines = []
    for text in texts:
        question, context = (part.strip().lower() for part in text.split("|", 1))
        words = context.split()
        tokens, segment_ids, first, offsets = qa_pair(pieces, question, words, length, segments, question_match=True)
        x = {"token_ids": tokens[None], "segment_ids": segment_ids[None]}
        logits = model.predict(x, verbose=0)
        start, end, _ = best_span(logits["start"], logits["end"], 4, mask=x["token_ids"] != PAD)
        word_of = np.searchsorted(offsets, np.arange(offsets[-1]), side="right") - 1
        s_, e_ = int(np.asarray(start)[0]) - first, int(np.asarray(end)[0]) - first
        if 0 <= s_ <= e_ < len(word_of):
            lines.append(" ".join(words[word_of[s_] : word_of[e_] + 1]))
        else:
            lines.append("")
    return lines
