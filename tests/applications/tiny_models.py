"""A small saved model of every application, built through the application's
own public functions (untrained: the reload test and the start-up benchmark
need a real saved model, not a good one).

`build(name, directory)` returns a `Tiny`: the saved model's path, fixed
model inputs, the inputs of `predict` on the command line and the outputs
of the model as built (`outputs(model)` computes them for a reloaded one).
Used by tests/applications/test_reload.py and benchmarks/startup.py.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

RATE = 16_000


@dataclasses.dataclass
class Tiny:
    name: str
    path: str
    inputs: object
    predict_inputs: list
    expected: object = None
    through: str | None = None  # the application function turning the saved model into the one to call


def outputs(name, model, inputs, through=None):
    """The outputs of a (reloaded) tiny model on its inputs, as NumPy."""
    import importlib

    if name == "word_vectors":
        return np.asarray(model.vectors)
    if through:
        model = getattr(importlib.import_module(f"applications.{package(name)}"), through)(model)
    return _numpy(model(inputs))


def loaded_outputs(name, loaded, inputs, through=None):
    """The outputs of the model in what `applications.<name>.load` returns
    (a model, or a tuple whose first item is the model; speech_ctc's is
    already its recognizer)."""
    if name == "speech_ctc":
        return outputs(name, loaded[0], inputs)
    model = loaded[0] if isinstance(loaded, tuple) else loaded
    return outputs(name, model, inputs, through)


def _numpy(value):
    import keras

    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value))


def _write_wav(path, seconds, seed=0):
    from applications._speech import write_wav

    noise = np.random.default_rng(seed).normal(0, 0.05, int(seconds * RATE)).astype("float32")
    write_wav(path, noise, RATE)
    return path


def dates_nmt(directory):
    from applications.dates_nmt import app

    sources, targets = ["3 May 1979", "5/30/09"], ["1979-05-03", "2009-05-30"]
    vocabularies = app.build_vocabularies(sources)
    model = app.build_model(*vocabularies, size="fast")
    inputs, _ = app.encode_pairs(vocabularies, sources, targets)
    model(inputs)
    return model, inputs, ["3 May 1979"]


def transformer_nmt(directory):
    from applications.transformer_nmt import app

    sources = ["siebentausend", "trois cent douze", "dos mil"]
    targets = ["seven thousand", "three hundred and twelve", "two thousand"]
    vocabularies = app.build_vocabularies(sources * 10, targets, size="fast")
    model = app.build_model(*vocabularies, size="fast", steps=10)
    inputs, _ = app.encode_pairs(model, sources, targets)
    model(inputs)
    return model, inputs, ["siebentausend"]


def summarization(directory):
    from applications.summarization import app
    from applications.summarization.data import generate_pairs

    pairs = generate_pairs(4, seed=0)
    articles, summaries = [p[0] for p in pairs], [p[1] for p in pairs]
    vocabulary = app.build_vocabulary(articles, summaries)
    model = app.build_model(vocabulary, size="fast", steps=10)
    inputs, _, _ = app.language_model_batch(vocabulary, articles, summaries)
    model(inputs)
    return model, inputs, [articles[0]]


def text_to_text(directory):
    from applications.text_to_text import app
    from applications.text_to_text.data import TASKS, generate_task

    pairs = [pair for task in TASKS for pair in generate_task(task, 3, seed=0)]
    vocabulary = app.Vocabulary.build([text for pair in pairs for text in pair], level="word")
    model = app.build_model(vocabulary, size="fast", steps=10)
    inputs, _ = app.encode(vocabulary, pairs)
    model(inputs)
    return model, inputs, [pairs[0][0]]


def char_lm(directory):
    from applications.char_lm import app
    from keras_seq.text import Vocabulary

    vocabulary = Vocabulary.build(["anna", "bob", "carl"], level="char")
    model = app.build_model(vocabulary, size="fast", sequence_length=12)
    inputs, _ = app.encode_items(vocabulary, ["anna", "bob"], 12)
    model(inputs)
    return model, inputs, ["an"]


def ner(directory):
    from applications.ner import app

    sentences = [(["Ann", "lives", "in", "Oslo"], ["B-PER", "O", "O", "B-LOC"])] * 2
    model = app.build_model(app.build_vocabularies(sentences, min_count=1), size="fast")
    inputs, _ = model.features([tokens for tokens, _ in sentences])
    model(inputs)
    return model, inputs, ["Ann lives in Oslo ."]


def captioning(directory):
    from PIL import Image

    from applications.captioning import app
    from keras_seq.text import Vocabulary

    vocabulary = Vocabulary.build(["a large red circle", "a small blue square"], level="word")
    model = app.build_model(vocabulary, size="fast", steps=10)
    images = np.random.default_rng(0).uniform(size=(2, 64, 64, 3)).astype("float32")
    tokens, _ = app.caption_batch(vocabulary, ["a large red circle", "a small blue square"])
    inputs = {"images": images, "tokens": np.asarray(tokens)}
    model(inputs)
    image = os.path.join(directory, "scene.png")
    Image.fromarray(np.round(images[0] * 255).astype("uint8")).save(image)
    return model, inputs, [image]


def jazz(directory):
    from applications.jazz import app
    from applications.jazz.data import generate_solos

    pieces = generate_solos(3, seed=0)
    vocabulary = app.build_vocabulary(pieces)
    model = app.build_model(vocabulary, size="fast", steps=10)
    inputs, _ = app.windows(app.sequences(vocabulary, pieces), length=16)
    model(inputs)
    return model, inputs, ["blues:F"]


def reformer_lm(directory):
    from applications.reformer_lm import app
    from applications.reformer_lm.data import Vocabulary, generate_documents

    documents = generate_documents(2, 64, seed=0)
    model = app.build_model(Vocabulary.build(documents), size="fast", steps=10)
    ids, _ = model.vocabulary.encode_documents(documents)
    model(ids)
    return model, ids, ["the of and"]


def qa(directory):
    from applications.qa import app

    examples = [{"story": ["Mary went to the garden.", "John moved to the office."],
                 "question": "Where is Mary?", "answer": "garden"}] * 2  # fmt: skip
    codec = app.BabiCodec.fit(examples)
    model = app.build_babi_model("memn2n", codec, size="fast")
    inputs, _ = codec.encode(examples)
    model(inputs)
    sidecar = {"task": "babi1", "model": "memn2n", **codec.config()}
    return model, inputs, ["Mary went to the garden. | Where is Mary?"], (app.sidecar_path, sidecar)


def qa_span(directory):
    from applications.qa import app
    from applications.qa.data import generate_examples

    examples = generate_examples(4, seed=0)
    codec = app.SpanCodec.fit(examples, 64)
    model = app.build_span_model(app.build_encoder(codec, size="fast"), size="fast", steps=10)
    inputs, _, _ = codec.encode(examples)
    model(inputs)
    texts = [f"{examples[0]['question']} | {examples[0]['context']}"]
    return model, inputs, texts, (app.sidecar_path, {"task": "squad", **codec.config()})


def bert_pretraining(directory):
    from applications.bert_pretraining import app
    from applications.qa.data import generate_examples
    from keras_seq.models import BertEncoder

    examples = generate_examples(4, seed=0)
    sentences = [e["context"] for e in examples] + [e["question"] for e in examples]
    pieces = app.WordPieces(app.train_wordpiece(sentences, 200))
    encoder = BertEncoder(len(pieces), 64, num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32,
                          num_segments=17)
    model = app.build_qa_model(encoder, steps=10)
    inputs, _, _ = app.qa_data(examples, pieces, 64, 8, question_match=True)
    model(inputs)
    texts = ["where was anna born ? | anna was born in lisbon ."]
    return model, inputs, texts, (app.vocabulary_path, pieces)


def sentiment(directory):
    from applications.sentiment import app
    from keras_seq.embeddings import WordVectors

    words = ["happy", "sad", "food", "game", "not", "i", "am"]
    vectors = WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 8)).astype("float32"))
    vocabulary = app.build_vocabulary(["i am happy"], vectors)
    model = app.build_model("lstm", vocabulary, vectors, num_classes=5, units=8)
    inputs = app.encode(vocabulary, ["i am happy", "not sad"])
    model(inputs)
    return model, inputs, ["i am happy"], ("sentiment", vocabulary)


def word_vectors(directory):
    from keras_seq.embeddings import WordVectors

    words = ["king", "queen", "man", "woman", "paris", "france"]
    vectors = WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 8)).astype("float32"))
    path = os.path.join(directory, "word_vectors.txt")
    vectors.save(path, format="glove")
    return Tiny("word_vectors", path, None, ["king"], np.asarray(vectors.vectors))


def speech_ctc(directory):
    from applications.speech_ctc import app

    model = app.build_model("fast")
    waves = np.random.default_rng(0).normal(0, 0.05, (2, RATE)).astype("float32")
    inputs = {"audio": waves, "audio_length": np.array([RATE, RATE // 2], "int32")}
    wav = _write_wav(os.path.join(directory, "command.wav"), 1.0)
    return model, inputs, [wav], None, "recognizer"


def trigger_word(directory):
    from applications.trigger_word import app

    model = app.build_model("fast")
    waves = np.random.default_rng(0).normal(0, 0.05, (2, 2 * RATE)).astype("float32")
    wav = _write_wav(os.path.join(directory, "clip.wav"), 2.0)
    return model, waves, [wav]


def glue(directory):
    from applications.glue import app
    from applications.glue.data import make_dataset
    from applications.glue.formats import TASKS

    data = make_dataset(20, 5, seed=0, tasks=["SST-2", "MRPC", "STS-B"])
    texts = [t for splits in data.values() for e in splits["train"] for t in (e.text_a, e.text_b) if t]
    vocabulary = app.build_vocabulary(texts, 120)
    tasks = [(name, TASKS[name].labels) for name in data]
    model = app.build_model(tasks, vocabulary, size="fast", adapter_dim=4)  # the adapters are saved too
    inputs = app.encode(model.pieces, data["MRPC"]["train"][:2], model.sequence_length)
    model(inputs)
    return model, inputs, ["MRPC: the dog chased the cat ||| the cat was chased by the dog"]


def dna(directory):
    from applications.dna import app
    from applications.dna.data import one_hot

    model = app.build_model(["CTCF", "SRF"], size="fast", seed=0, sequence_length=40)
    sequences = ["ACGT" * 10, "GGCCAATTGGCCAATTACGTACGTACGTAAATTTCCCGGG"]
    inputs = one_hot(sequences)
    model(inputs)
    return model, inputs, [sequences[0]]


def video_activity(directory):
    from applications.video_activity import app
    from applications.video_activity.data import generate_clips, write_video

    model = app.build_model(size="fast", architecture="attention")
    clips, _ = generate_clips(2, frames=8, image_size=32, seed=0)
    model(clips)
    video = write_video(os.path.join(directory, "clip.avi"), clips[0])
    return model, clips, [video]


BUILDERS = {
    "dates_nmt": dates_nmt,
    "transformer_nmt": transformer_nmt,
    "summarization": summarization,
    "text_to_text": text_to_text,
    "char_lm": char_lm,
    "ner": ner,
    "captioning": captioning,
    "jazz": jazz,
    "reformer_lm": reformer_lm,
    "qa": qa,
    "qa_span": qa_span,
    "bert_pretraining": bert_pretraining,
    "sentiment": sentiment,
    "word_vectors": word_vectors,
    "speech_ctc": speech_ctc,
    "trigger_word": trigger_word,
    "glue": glue,
    "dna": dna,
    "video_activity": video_activity,
}

def package(name):
    """The application package a tiny model belongs to (`qa_span` is `qa`)."""
    return "qa" if name == "qa_span" else name


def build(name, directory):
    """Builds, saves (with the files the application keeps beside it) and
    describes the tiny model of application `name`."""
    made = BUILDERS[name](directory)
    if isinstance(made, Tiny):
        return made
    model, inputs, predict_inputs, *extra = made
    extra, through = (extra + [None, None])[:2]
    path = os.path.join(directory, f"{name}.keras")
    model.save(path)
    if extra:
        where, what = extra
        if name == "sentiment":
            what.save(path + ".vocab")
            with open(path + ".classes", "w", encoding="utf-8") as handle:
                handle.write("love\nsport\njoy\nsadness\nfood\n")
        elif name == "bert_pretraining":
            what.save(where(path))
        else:
            with open(where(path), "w", encoding="utf-8") as handle:
                json.dump(what, handle)
    return Tiny(name, path, inputs, predict_inputs, outputs(name, model, inputs, through), through)
