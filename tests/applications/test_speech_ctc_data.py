"""speech_ctc data: text coding, determinism, held-out voices, CTC feasibility, loaders."""

import numpy as np
import pytest

from applications._speech import split_voices, write_wav
from applications.speech_ctc import data


def test_text_coding_round_trips():
    assert len(data.ALPHABET) == 29 and data.ALPHABET[data.BLANK] == ""
    for sentence in data.generate_sentences(50, seed=2):
        assert data.normalize_text(sentence) == sentence
        ids = data.encode(sentence)
        assert min(ids) >= 1 and data.decode(ids) == sentence
    assert data.normalize_text("It's  TEN-thirty!") == "it's ten thirty"


def test_generator_is_deterministic_and_holds_out_voices(tmp_path):
    a_train, a_test = data.make_dataset(5, 3, seed=4, cache_dir=False)
    b_train, b_test = data.make_dataset(5, 3, seed=4, cache_dir=False)
    for a, b in ((a_train, b_train), (a_test, b_test)):
        for key in ("audio", "audio_lengths", "texts"):
            np.testing.assert_array_equal(a[key], b[key])
    other, _ = data.make_dataset(5, 0, seed=5, cache_dir=False)
    assert not np.array_equal(other["audio"][:1000], a_train["audio"][:1000])
    cached = data.make_dataset(5, 0, seed=4, cache_dir=tmp_path)[0]
    np.testing.assert_array_equal(cached["audio"], a_train["audio"])
    # Test utterances are spoken only by held-out voices (variants never used in training).
    train_voices, test_voices = split_voices(data.HELD_OUT_FRACTION, data.VOICE_SPLIT_SEED)
    heard = {v.name.split("+")[1] for v in data.utterance_voices(500, train_voices, 4)}
    spoken = data.utterance_voices(500, test_voices, 1004)
    assert all(v.name in test_voices for v in spoken)
    assert not {v.name.split("+")[1] for v in spoken} & heard
    # Every utterance has enough output frames for CTC (labels plus a blank between repeats).
    waves, texts = data.unpack(a_train)
    for wave, text in zip(waves, texts):
        ids = data.encode(text)
        repeats = sum(x == y for x, y in zip(ids, ids[1:]))
        assert data.num_logit_frames(len(wave)) >= len(ids) + repeats


def test_corpus_loaders(tmp_path, rng):
    lj = tmp_path / "lj"
    (lj / "wavs").mkdir(parents=True)
    write_wav(lj / "wavs" / "LJ1.wav", rng.uniform(-0.3, 0.3, 22050), 22050)
    (lj / "metadata.csv").write_text("LJ1|Dr. Smith, 2 cats|Doctor Smith, two cats\n", encoding="utf-8")
    packed = data.load_corpus(str(lj))
    waves, texts = data.unpack(packed)
    assert texts == ["doctor smith two cats"] and len(waves[0]) == 16000
    folder = tmp_path / "cv"
    folder.mkdir()
    write_wav(folder / "x.wav", rng.uniform(-0.3, 0.3, 8000), 16000)
    (folder / "transcripts.tsv").write_text("path\tsentence\nx.wav\tGo LEFT!\n", encoding="utf-8")
    assert data.unpack(data.load_corpus(str(folder)))[1] == ["go left"]
    with pytest.raises(ValueError, match="metadata.csv"):
        data.load_corpus(str(tmp_path))
