"""espeak-ng synthesis, voice splits, cache, wav I/O against scipy, resampling, noise, loaders."""

import subprocess
import sys
import wave

import numpy as np
import pytest
from scipy.io import wavfile
from scipy.signal import resample as scipy_resample

from applications import _speech as sd


def test_synthesis_is_deterministic_and_voices_differ():
    a = sd.synthesize("activate", sd.Voice("en-us+f3", rate=170, pitch=40))
    b = sd.synthesize("activate", sd.Voice("en-us+f3", rate=170, pitch=40))
    np.testing.assert_array_equal(a, b)
    batch = sd.synthesize_many(
        [("activate", sd.Voice("en-us+f3", 170, 40)), ("activate", sd.Voice("en-gb-scotland+m3", 170, 40)),
         ("activate", sd.Voice("en-us+f3", 300, 40))]
    )
    np.testing.assert_array_equal(batch[0], a)  # same request, same samples, whatever came before
    assert not np.array_equal(batch[1][: len(a)], a[: len(batch[1])])
    assert len(batch[2]) < 0.8 * len(a)  # faster speech is shorter
    assert a.dtype == np.float32 and 0.3 < len(a) / 16000 < 1.2 and np.abs(a).max() <= 1.0
    # The waveform is speech-like: most energy below 4 kHz.
    spectrum = np.abs(np.fft.rfft(a)) ** 2
    frequencies = np.fft.rfftfreq(len(a), 1 / 16000)
    assert spectrum[frequencies < 4000].sum() > 0.8 * spectrum.sum()


def test_bad_requests_raise_value_errors():
    with pytest.raises(ValueError, match="no voice"):
        sd.synthesize("yes", "en-xx+f1")
    with pytest.raises(ValueError, match="text"):
        sd.synthesize("  ")
    with pytest.raises(ValueError, match="rate"):
        sd.Voice("en-us", rate=10)
    with pytest.raises(ValueError, match="pitch"):
        sd.Voice("en-us", pitch=100)
    with pytest.raises(ValueError, match="test_fraction"):
        sd.split_voices(1.0)


def test_split_voices_holds_out_whole_variants():
    train, test = sd.split_voices(0.25, seed=3)
    assert sorted(train + test) == sorted(sd.english_voices())
    train_variants = {v.split("+")[1] for v in train}
    test_variants = {v.split("+")[1] for v in test}
    assert not train_variants & test_variants
    assert len(test_variants) == round(0.25 * len(sd.VARIANTS))
    for voice in test:  # every accent appears with the held-out variants
        assert voice.split("+")[0] in sd.ACCENTS
    assert sd.split_voices(0.25, seed=3) == (train, test)


def test_missing_engine_says_how_to_install():
    code = (
        "import sys, ctypes.util\n"
        "sys.modules['espeakng_loader'] = None  # as if the audio extra were not installed\n"
        "from applications._espeak import EspeakNotFoundError, _locate_espeak\n"
        "try:\n"
        "    print('found', _locate_espeak()[0])\n"
        "except EspeakNotFoundError as error:\n"
        "    print('missing', error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import ctypes.util

    system = ctypes.util.find_library("espeak-ng")
    if system is None:
        assert out.startswith("missing") and "pip install keras_seq[audio]" in out and "apt install espeak-ng" in out
    else:
        assert out.strip() == f"found {system}"


def test_cache_is_keyed_by_parameters(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(len(calls) + 2)}

    first = sd.cached_arrays(tmp_path, {"a": 1}, build)
    again = sd.cached_arrays(tmp_path, {"a": 1}, build)
    other = sd.cached_arrays(tmp_path, {"a": 2}, build)
    assert len(calls) == 2
    np.testing.assert_array_equal(first["x"], again["x"])
    assert len(other["x"]) == 4
    (next(tmp_path.glob("*.npz"))).write_bytes(b"truncated")  # a broken file is rebuilt
    sd.cached_arrays(tmp_path, {"a": 1}, build)
    sd.cached_arrays(tmp_path, {"a": 2}, build)
    assert len(calls) == 3


def _write_raw_wav(path, data, width, channels, rate):
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(data)


def test_wav_io_matches_scipy(tmp_path, rng):
    x = rng.uniform(-0.9, 0.9, 1000).astype("float32")
    sd.write_wav(tmp_path / "a.wav", x, 8000)
    rate, raw = wavfile.read(tmp_path / "a.wav")
    assert rate == 8000 and raw.dtype == np.int16
    np.testing.assert_array_equal(raw, np.round(x * 32767).astype("int16"))
    y, rate = sd.read_wav(tmp_path / "a.wav")
    np.testing.assert_allclose(y, raw / 32768.0, atol=1e-7)
    # 8-bit unsigned, 24-bit and stereo files.
    pcm8 = rng.integers(0, 256, 300).astype("uint8")
    _write_raw_wav(tmp_path / "b.wav", pcm8.tobytes(), 1, 1, 8000)
    np.testing.assert_allclose(sd.read_wav(tmp_path / "b.wav")[0], (pcm8 - 128.0) / 128.0)
    pcm24 = rng.integers(-(2**23), 2**23, 300)
    packed = np.stack([pcm24 & 255, (pcm24 >> 8) & 255, (pcm24 >> 16) & 255], axis=1).astype("uint8")
    _write_raw_wav(tmp_path / "c.wav", packed.tobytes(), 3, 1, 8000)
    np.testing.assert_allclose(sd.read_wav(tmp_path / "c.wav")[0], pcm24 / 2.0**23, atol=1e-7)
    stereo = rng.integers(-30000, 30000, (200, 2)).astype("<i2")
    _write_raw_wav(tmp_path / "d.wav", stereo.tobytes(), 2, 2, 8000)
    np.testing.assert_allclose(sd.read_wav(tmp_path / "d.wav")[0], stereo.mean(axis=1) / 32768.0, atol=1e-6)
    resampled, rate = sd.read_wav(tmp_path / "a.wav", sample_rate=16000)
    assert rate == 16000 and len(resampled) == 2000
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(ValueError, match="bad.wav"):
        sd.read_wav(tmp_path / "bad.wav")
    with pytest.raises(ValueError, match="mono"):
        sd.write_wav(tmp_path / "e.wav", np.zeros((2, 3)))


@pytest.mark.parametrize("rates", [(22050, 16000), (16000, 22050), (16000, 8000), (1000, 999)])
def test_resample_matches_scipy_fft_resampling(rng, rates):
    x = rng.normal(size=1001)
    count = int(round(len(x) * rates[1] / rates[0]))
    ours = sd.resample(x, *rates)
    assert len(ours) == count
    # Equal to scipy.signal.resample except at the Nyquist bin, which scipy
    # splits differently for even lengths: compare below it.
    reference = scipy_resample(x, count)
    bins = min(len(x), count) // 2 - 1
    np.testing.assert_allclose(np.fft.rfft(ours)[:bins], np.fft.rfft(reference)[:bins], atol=1e-4)


def test_noise_and_mixing(rng):
    for exponent in (0.0, 1.0, 2.0):
        noise = sd.colored_noise(2**15, rng, exponent)
        assert abs(np.sqrt(np.mean(noise**2)) - 1.0) < 1e-4
        power = np.abs(np.fft.rfft(noise)) ** 2
        f = np.arange(len(power))
        band = (f > 10) & (f < len(f) // 2)
        slope = np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]
        assert abs(slope + exponent) < 0.15, (exponent, slope)
    signal = rng.normal(size=4000).astype("float32")
    noise = rng.normal(size=4000).astype("float32")
    mixed = sd.mix_at_snr(signal, noise, 12.0)
    snr = 10 * np.log10(np.mean(signal**2) / np.mean((mixed - signal) ** 2))
    assert abs(snr - 12.0) < 1e-3
    background = sd.background_noise(16000, np.random.default_rng(0))
    assert background.shape == (16000,) and 0.002 < np.sqrt(np.mean(background**2)) < 0.2


def test_trim_silence():
    x = np.concatenate([np.zeros(1000), 0.001 * np.ones(100), np.ones(500), np.zeros(700)])
    trimmed = sd.trim_silence(x, threshold=0.02, frame=100)
    assert len(trimmed) == 500 and np.all(trimmed == 1.0)
    assert len(sd.trim_silence(np.zeros(10))) == 0


def test_ljspeech_loader(tmp_path, rng):
    (tmp_path / "wavs").mkdir()
    clips = {"LJ001-0001": rng.uniform(-0.5, 0.5, 2205), "LJ001-0002": rng.uniform(-0.5, 0.5, 4410)}
    for name, clip in clips.items():
        sd.write_wav(tmp_path / "wavs" / f"{name}.wav", clip, 22050)
    (tmp_path / "metadata.csv").write_text(
        'LJ001-0001|Printing, in 1 sense "only"|Printing, in one sense "only"\n'
        "LJ001-0002|No normalised column\n",
        encoding="utf-8",
    )
    pairs = sd.load_ljspeech(str(tmp_path), sample_rate=22050)
    assert [t for _, t in pairs] == ['Printing, in one sense "only"', "No normalised column"]
    np.testing.assert_allclose(pairs[0][0], np.round(clips["LJ001-0001"] * 32767) / 32768, atol=1e-6)
    assert [t for _, t in sd.load_ljspeech(str(tmp_path), 22050, normalized=False)][0] == 'Printing, in 1 sense "only"'
    assert len(sd.load_ljspeech(str(tmp_path), 16000)[1][0]) == 3200  # resampled
    (tmp_path / "metadata.csv").write_text("LJ001-0003|missing audio|x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="LJ001-0003.wav does not exist"):
        sd.load_ljspeech(str(tmp_path))
    with pytest.raises(ValueError, match="metadata.csv"):
        sd.load_ljspeech(str(tmp_path / "wavs"))


def test_wav_folder_loader(tmp_path, rng):
    for name in ("a", "b"):
        sd.write_wav(tmp_path / f"{name}.wav", rng.uniform(-0.5, 0.5, 1600), 16000)
    # Common Voice style: header, extra columns, paths in any column order.
    (tmp_path / "transcripts.tsv").write_text(
        "client_id\tpath\tsentence\tup_votes\nx\ta.wav\tHello there\t2\ny\tb\tGood bye\t1\n", encoding="utf-8"
    )
    pairs = sd.load_wav_folder(str(tmp_path))
    assert [t for _, t in pairs] == ["Hello there", "Good bye"] and len(pairs[0][0]) == 1600
    (tmp_path / "plain.tsv").write_text("b.wav\tsecond\na.wav\tfirst\n", encoding="utf-8")
    assert [t for _, t in sd.load_wav_folder(str(tmp_path), "plain.tsv")] == ["second", "first"]
    (tmp_path / "short.tsv").write_text("a.wav\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 1"):
        sd.load_wav_folder(str(tmp_path), "short.tsv")
    with pytest.raises(ValueError, match="transcripts"):
        sd.load_wav_folder(str(tmp_path), "none.tsv")
