"""WordVectors: queries against brute force and gensim, evaluation against
gensim's evaluators, file formats, Keras transfer, projector files."""

import keras
import numpy as np
import pytest
from gensim.models import KeyedVectors

from keras_seq.embeddings import WordVectors, cosine_similarity, data_path
from keras_seq.text import Vocabulary


@pytest.fixture(scope="module")
def random_vectors():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)]
    return WordVectors(words, rng.normal(size=(300, 16)))


def gensim_vectors(wv):
    kv = KeyedVectors(wv.vector_size)
    kv.add_vectors(wv.words, wv.vectors)
    return kv


def test_cosine_similarity_matches_formula(rng):
    u, v = rng.normal(size=8), rng.normal(size=(5, 8))
    expected = [u @ row / np.linalg.norm(u) / np.linalg.norm(row) for row in v]
    np.testing.assert_allclose(cosine_similarity(u, v), expected, rtol=1e-12)
    assert cosine_similarity(np.zeros(8), u) == 0.0
    with pytest.raises(ValueError, match="same last dimension"):
        cosine_similarity(u, rng.normal(size=7))


def test_most_similar_and_analogy_equal_brute_force(random_vectors):
    wv = random_vectors
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    for word in ["w0", "w17", "w250"]:
        i = wv.index[word]
        scores = [(float(unit[i] @ unit[j]), wv.words[j]) for j in range(len(wv)) if j != i]
        expected = [w for _, w in sorted(scores, reverse=True)[:5]]
        assert [w for w, _ in wv.most_similar(word, topn=5)] == expected
    for a, b, c in [("w1", "w2", "w3"), ("w10", "w200", "w55")]:
        target = unit[wv.index[b]] - unit[wv.index[a]] + unit[wv.index[c]]
        scores = {w: float(unit[j] @ target) for j, w in enumerate(wv.words) if w not in (a, b, c)}
        assert wv.analogy(a, b, c) == max(scores, key=scores.get)
        top = wv.analogy(a, b, c, topn=3)
        assert [w for w, _ in top] == sorted(scores, key=scores.get, reverse=True)[:3]


def test_queries_equal_gensim(random_vectors):
    wv, kv = random_vectors, gensim_vectors(random_vectors)
    assert [w for w, _ in wv.most_similar("w5", 10)] == [w for w, _ in kv.most_similar("w5", topn=10)]
    ours = wv.analogy("w1", "w2", "w3", topn=5)
    theirs = kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    vector = wv["w9"] * 2 + wv["w8"]
    assert [w for w, _ in wv.most_similar(vector, 4)] == [w for w, _ in kv.similar_by_vector(vector, topn=4)]
    assert wv.similarity("w3", "w4") == pytest.approx(float(kv.similarity("w3", "w4")), abs=1e-6)


def test_query_errors(random_vectors):
    with pytest.raises(ValueError, match="`word_or_vector` 'nope' is not in the vocabulary"):
        random_vectors.most_similar("nope")
    with pytest.raises(ValueError, match="`c` 'zzz'"):
        random_vectors.analogy("w1", "w2", "zzz")
    with pytest.raises(ValueError, match="`topn` must be a positive integer"):
        random_vectors.most_similar("w1", topn=0)
    with pytest.raises(ValueError, match="shape \\(16,\\)"):
        random_vectors.most_similar(np.ones(3))
    with pytest.raises(ValueError, match="distinct"):
        WordVectors(["a", "a"], np.ones((2, 2)))
    with pytest.raises(ValueError, match="`vectors` must have shape"):
        WordVectors(["a", "b"], np.ones((3, 2)))


@pytest.fixture(scope="module")
def planted_vectors():
    """Vectors in which country/capital and man/woman-style relations are
    exact offsets, so most analogies are solvable; plus noise words."""
    rng = np.random.default_rng(3)
    questions = open(data_path("questions-words"), encoding="utf-8").read().split("\n")
    words = sorted({w.lower() for line in questions if line and not line.startswith(":") for w in line.split()})
    vectors = {w: rng.normal(size=32) for w in words}
    offset = rng.normal(size=32)
    for line in questions[1:400]:  # capital-common-countries: country = capital + offset
        a, b, _, _ = line.lower().split()
        vectors[b] = vectors[a] + offset + rng.normal(scale=0.3, size=32)
    names = sorted(vectors) + [f"noise{i}" for i in range(200)]
    matrix = np.stack([vectors.get(w, rng.normal(size=32)) for w in names])
    return WordVectors(names, matrix)


def test_evaluate_analogies_equals_gensim(planted_vectors):
    ours = planted_vectors.evaluate_analogies(restrict_vocab=600)
    score, sections = gensim_vectors(planted_vectors).evaluate_word_analogies(
        data_path("questions-words"), restrict_vocab=600
    )
    assert ours["accuracy"] == pytest.approx(score)
    theirs = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections}
    assert theirs.pop("Total accuracy") == (ours["correct"], ours["total"])
    assert {k: v for k, v in ours["sections"].items() if v[1]} == {k: v for k, v in theirs.items() if v[1]}
    assert ours["sections"]["capital-common-countries"][0] > 0


def test_evaluate_word_pairs_equals_gensim(planted_vectors, tmp_path):
    rng = np.random.default_rng(0)
    words = planted_vectors.words
    lines = ["# word1\tword2\tscore"] + [
        f"{words[rng.integers(len(words))]}\t{words[rng.integers(len(words))]}\t{rng.uniform(0, 10):.2f}"
        for _ in range(60)
    ]
    lines.append("unknownword\tathens\t3.0")
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    ours = planted_vectors.evaluate_word_pairs(path)
    pearson, spearman, oov = gensim_vectors(planted_vectors).evaluate_word_pairs(str(path))
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours["pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
    assert ours["oov"] == 1 and ours["pairs"] == 60
    assert ours["oov_ratio"] * 100 == pytest.approx(oov)
    path.write_text("a\tb\n")
    with pytest.raises(ValueError, match="line 1 must be 'word1<TAB>word2<TAB>score'"):
        planted_vectors.evaluate_word_pairs(path)


def test_evaluate_analogies_rejects_malformed_lines(planted_vectors, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": sec\nathens greece baghdad iraq\nathens greece\n")
    with pytest.raises(ValueError, match="line 3 must be"):
        planted_vectors.evaluate_analogies(path)


@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec_binary"])
def test_files_round_trip_and_gensim_reads_them(random_vectors, tmp_path, fmt):
    path = tmp_path / f"v.{fmt}"
    random_vectors.save(path, format=fmt)
    loaded = WordVectors.load(path, format=fmt)
    assert loaded.words == random_vectors.words
    np.testing.assert_array_equal(loaded.vectors, random_vectors.vectors)
    if fmt != "glove":
        kv = KeyedVectors.load_word2vec_format(str(path), binary=fmt == "word2vec_binary")
        assert kv.index_to_key == random_vectors.words
        np.testing.assert_array_equal(kv.vectors, random_vectors.vectors)
    else:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True)
        np.testing.assert_array_equal(kv.vectors, random_vectors.vectors)
    assert WordVectors.load(path, format=fmt, limit=10).words == random_vectors.words[:10]


@pytest.mark.parametrize("binary", [False, True])
def test_loads_gensim_written_files(random_vectors, tmp_path, binary):
    path = tmp_path / "g.bin"
    gensim_vectors(random_vectors).save_word2vec_format(str(path), binary=binary)
    loaded = WordVectors.load(path, format="word2vec_binary" if binary else "word2vec")
    assert loaded.words == random_vectors.words
    np.testing.assert_allclose(loaded.vectors, random_vectors.vectors, rtol=1e-6)


@pytest.mark.parametrize(
    "text, fmt, message",
    [
        ("a 1 2\nb 1\n", "glove", "line 2: expected a word and 2 values; got 1"),
        ("a 1 2\nb 1 x\n", "glove", "line 2: the vector of 'b' holds a non-number"),
        ("a 1 2\nb 3 4\na 5 6\n", "glove", "word 'a' appears twice"),
        ("2 x\na 1 2\n", "word2vec", "line 1: expected the word2vec header"),
        ("3 2\na 1 2\nb 1 2\n", "word2vec", "announces 3 words but the file holds 2"),
        ("2 2\na 1 2\nb 1 2 3\n", "word2vec", "line 3: expected a word and 2 values; got 3"),
    ],
)
def test_load_rejects_malformed_files_with_line_numbers(tmp_path, text, fmt, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        WordVectors.load(path, format=fmt)


def test_load_rejects_truncated_binary_and_bad_format(random_vectors, tmp_path):
    path = tmp_path / "v.bin"
    random_vectors.save(path, format="word2vec_binary")
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="entry 300 \\(line 301\\): truncated"):
        WordVectors.load(path, format="word2vec_binary")
    with pytest.raises(ValueError, match="`format` must be one of"):
        WordVectors.load(path, format="fasttext")


def test_to_embedding_layer_aligns_vocabulary(random_vectors):
    vocabulary = Vocabulary(["w3", "unseen", "w1"], level="word")
    layer = random_vectors.to_embedding_layer(vocabulary, seed=1)
    matrix = keras.ops.convert_to_numpy(layer.embeddings)
    assert matrix.shape == (7, 16) and not layer.trainable
    np.testing.assert_array_equal(matrix[0], 0.0)
    np.testing.assert_allclose(matrix[4], random_vectors["w3"])
    np.testing.assert_allclose(matrix[6], random_vectors["w1"])
    # OOV rows (<unk>, <sos>, <eos>, "unseen") are distinct random draws at the vectors' scale.
    oov = matrix[[1, 2, 3, 5]]
    assert len({tuple(r) for r in oov}) == 4
    assert 0.5 < oov.std() / random_vectors.vectors.std() < 2.0
    assert keras.ops.convert_to_numpy(layer.compute_mask(np.array([[4, 0]]))).tolist() == [[True, False]]
    assert random_vectors.to_embedding_layer(vocabulary, trainable=True).trainable
    # Fine-tuning moves the rows when trainable.
    model = keras.Sequential([random_vectors.to_embedding_layer(vocabulary, trainable=True), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    before = np.array(model.layers[0].embeddings)
    model.fit(np.array([[4, 6]]), np.ones((1, 2, 1)), verbose=0)
    assert not np.allclose(before, np.array(model.layers[0].embeddings))


def test_projector_files(random_vectors, tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins.projector import projector_config_pb2

    config_path = random_vectors.write_projector(tmp_path, words=["w2", "w0"])
    config = text_format.Parse(open(config_path).read(), projector_config_pb2.ProjectorConfig())
    embedding = config.embeddings[0]
    vectors = np.loadtxt(tmp_path / embedding.tensor_path, delimiter="\t")
    np.testing.assert_allclose(vectors, random_vectors.vectors[[2, 0]], rtol=1e-5)
    assert (tmp_path / embedding.metadata_path).read_text().split() == ["w2", "w0"]
