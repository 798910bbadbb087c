"""Audio front ends: `LogSpectrogram`, `LogMelSpectrogram` (tf.signal STFT
inside the model), `UtteranceNormalization`, `SpecAugment`.

(The speech applications' data, espeak-ng synthesis and the LJSpeech and
wav+TSV loaders, live in `applications._speech`.)
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
