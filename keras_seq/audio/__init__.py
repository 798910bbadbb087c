"""Audio front ends and offline speech data.

Layers: `LogSpectrogram`, `LogMelSpectrogram` (tf.signal STFT inside the
model), `UtteranceNormalization`, `SpecAugment`. The `speech_data` module
synthesises English speech with espeak-ng (optional `audio` extra) and
reads the LJSpeech and wav+TSV formats.
"""

from keras_seq.audio.features import (
    LogMelSpectrogram,
    LogSpectrogram,
    mel_weight_matrix,
    num_frames,
)
from keras_seq.audio.normalization import UtteranceNormalization
from keras_seq.audio.spec_augment import SpecAugment

__all__ = [
    "LogMelSpectrogram",
    "LogSpectrogram",
    "SpecAugment",
    "UtteranceNormalization",
    "mel_weight_matrix",
    "num_frames",
]
