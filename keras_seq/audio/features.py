"""Spectrogram features as Keras layers on `tf.signal` (no trainable weights).

Speech models work on spectrograms (seed 9.5): the waveform is cut into
overlapping frames, each frame is windowed and Fourier-transformed, and the
log of the power (optionally pooled into mel bands) is the feature. Doing it
inside the model keeps a saved `.keras` file self-contained: it takes raw
audio and training and serving share one feature pipeline.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_seq._config import AttributeConfig
from keras_seq._validation import check_positive_ints

_WINDOWS = ("hann", "hamming", "rectangular")


def _positive_int(value, name):
    check_positive_ints({name: value}, allow_numpy=True)
    return int(value)


def _check_waveform_shape(shape, name):
    if len(shape) != 2:
        raise ValueError(
            f"`{name}` expects waveforms shaped [batch, samples] (rank 2); "
            f"received shape {tuple(shape)}."
        )


def num_frames(num_samples, frame_length, frame_step, pad_end=False):
    """Number of STFT frames for `num_samples` samples (as `tf.signal.frame`).

    >>> num_frames(16000, 400, 160)
    98
    >>> num_frames(16000, 400, 160, pad_end=True)
    100
    """
    if pad_end:
        return -(-int(num_samples) // frame_step)
    return max(0, 1 + (int(num_samples) - frame_length) // frame_step)


class _STFTLayer(AttributeConfig, keras.layers.Layer):
    """Shared framing/windowing/FFT for the spectrogram layers."""

    config_attributes = (
        "frame_length",
        "frame_step",
        "fft_length",
        "window",
        "pad_end",
        "epsilon",
    )

    def __init__(
        self,
        frame_length=400,
        frame_step=160,
        fft_length=None,
        window="hann",
        pad_end=False,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.frame_length = _positive_int(frame_length, "frame_length")
        self.frame_step = _positive_int(frame_step, "frame_step")
        if fft_length is None:
            fft_length = 1 << (self.frame_length - 1).bit_length()
        self.fft_length = _positive_int(fft_length, "fft_length")
        if self.fft_length < self.frame_length:
            raise ValueError(
                f"`fft_length` ({self.fft_length}) must be at least `frame_length` "
                f"({self.frame_length})."
            )
        if window not in _WINDOWS:
            raise ValueError(f"`window` must be one of {_WINDOWS}; received {window!r}.")
        self.window = window
        self.pad_end = bool(pad_end)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive; received {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.supports_masking = False

    @property
    def num_spectrogram_bins(self):
        return self.fft_length // 2 + 1

    def _window_fn(self):
        import tensorflow as tf

        if self.window == "hann":
            return tf.signal.hann_window
        if self.window == "hamming":
            return tf.signal.hamming_window
        return None

    def build(self, inputs_shape):
        _check_waveform_shape(inputs_shape, type(self).__name__)
        super().build(inputs_shape)

    def _power(self, inputs):
        """|STFT|^2 in float32, shape [B, frames, fft_length // 2 + 1]."""
        import tensorflow as tf

        waveform = tf.cast(inputs, "float32")
        stft = tf.signal.stft(
            waveform,
            frame_length=self.frame_length,
            frame_step=self.frame_step,
            fft_length=self.fft_length,
            window_fn=self._window_fn(),
            pad_end=self.pad_end,
        )
        return tf.math.square(tf.math.real(stft)) + tf.math.square(tf.math.imag(stft))

    def output_length(self, num_samples):
        """Frames produced for `num_samples` samples (int or integer tensor)."""
        if isinstance(num_samples, (int, np.integer)):
            return num_frames(num_samples, self.frame_length, self.frame_step, self.pad_end)
        n = keras.ops.cast(num_samples, "int32")
        if self.pad_end:
            return (n + self.frame_step - 1) // self.frame_step
        return keras.ops.maximum(0, 1 + (n - self.frame_length) // self.frame_step)


@keras.saving.register_keras_serializable(package="keras_seq")
class LogSpectrogram(_STFTLayer):
    """Log power spectrogram of a batch of waveforms.

    Frames of `frame_length` samples every `frame_step` samples are windowed
    (periodic Hann by default) and transformed with a real FFT of
    `fft_length` points; the output is `log(|STFT|^2 + epsilon)`. Computed in
    float32 whatever the dtype policy, then cast to the compute dtype. The
    layer has no weights.

    Args:
        frame_length: int, samples per frame. Defaults to `400`.
        frame_step: int, hop between frames. Defaults to `160`.
        fft_length: int, FFT size (>= `frame_length`). Defaults to the next
            power of two of `frame_length`.
        window: `"hann"`, `"hamming"` or `"rectangular"`. Defaults to `"hann"`.
        pad_end: bool, zero-pad the end so every sample lands in a frame.
            Defaults to `False`.
        epsilon: float added to the power before the log. Defaults to `1e-6`.

    Call arguments:
        inputs: float waveforms [B, N].

    Returns:
        [B, frames, fft_length // 2 + 1] with
        `frames = 1 + (N - frame_length) // frame_step` (see `output_length`).

    Raises:
        ValueError: for non-positive sizes, `fft_length < frame_length`, an
            unknown window, or inputs that are not rank 2.

    Example:
    >>> import numpy as np
    >>> from keras_seq.audio import LogSpectrogram
    >>> layer = LogSpectrogram(frame_length=256, frame_step=128)
    >>> tuple(layer(np.zeros((2, 1024), "float32")).shape)
    (2, 7, 129)

    References:
        Seed notes 9.5 (speech recognition on spectrograms).
    """

    def call(self, inputs):
        import tensorflow as tf

        log_power = tf.math.log(self._power(inputs) + self.epsilon)
        return keras.ops.cast(log_power, self.compute_dtype)

    def compute_output_shape(self, inputs_shape):
        n = inputs_shape[1]
        frames = None if n is None else self.output_length(n)
        return (inputs_shape[0], frames, self.num_spectrogram_bins)


def mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sample_rate, lower_edge_hertz, upper_edge_hertz):
    """The HTK-mel triangular filter bank [num_spectrogram_bins, num_mel_bins].

    mel(f) = 1127 ln(1 + f / 700); band edges are evenly spaced in mel; the
    DC bin gets no weight (the convention of
    `tf.signal.linear_to_mel_weight_matrix`).

    >>> tuple(mel_weight_matrix(4, 9, 8000, 0.0, 4000.0).shape)
    (9, 4)
    """
    import tensorflow as tf

    return tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=num_mel_bins,
        num_spectrogram_bins=num_spectrogram_bins,
        sample_rate=sample_rate,
        lower_edge_hertz=lower_edge_hertz,
        upper_edge_hertz=upper_edge_hertz,
        dtype=tf.float32,
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class LogMelSpectrogram(_STFTLayer):
    """Log mel-filterbank energies of a batch of waveforms.

    The power spectrogram (as in `LogSpectrogram`) is multiplied by
    `num_mel_bins` triangular filters evenly spaced on the HTK mel scale
    mel(f) = 1127 ln(1 + f/700) between `lower_edge_hertz` and
    `upper_edge_hertz` (`tf.signal.linear_to_mel_weight_matrix`), and the
    output is `log(mel_energy + epsilon)`. Float32 inside, no weights.

    Args:
        sample_rate: int, waveform sample rate in Hz. Defaults to `16000`.
        num_mel_bins: int. Defaults to `40`.
        lower_edge_hertz: float. Defaults to `20.0`.
        upper_edge_hertz: float or `None` (Nyquist). Defaults to `None`.
        frame_length, frame_step, fft_length, window, pad_end, epsilon: as in
            `LogSpectrogram`.

    Call arguments:
        inputs: float waveforms [B, N].

    Returns:
        [B, frames, num_mel_bins].

    Raises:
        ValueError: for the `LogSpectrogram` cases, and band edges outside
            `0 <= lower < upper <= sample_rate / 2`.

    Example:
    >>> import numpy as np
    >>> from keras_seq.audio import LogMelSpectrogram
    >>> layer = LogMelSpectrogram(sample_rate=8000, num_mel_bins=20,
    ...                           frame_length=200, frame_step=80)
    >>> tuple(layer(np.zeros((1, 8000), "float32")).shape)
    (1, 98, 20)

    References:
        Seed notes 9.5; S. Young et al., The HTK Book (mel scale).
    """

    config_attributes = _STFTLayer.config_attributes + (
        "sample_rate",
        "num_mel_bins",
        "lower_edge_hertz",
        "upper_edge_hertz",
    )

    def __init__(
        self,
        sample_rate=16000,
        num_mel_bins=40,
        lower_edge_hertz=20.0,
        upper_edge_hertz=None,
        frame_length=400,
        frame_step=160,
        fft_length=None,
        window="hann",
        pad_end=False,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(frame_length, frame_step, fft_length, window, pad_end, epsilon, **kwargs)
        self.sample_rate = _positive_int(sample_rate, "sample_rate")
        self.num_mel_bins = _positive_int(num_mel_bins, "num_mel_bins")
        nyquist = self.sample_rate / 2
        upper = nyquist if upper_edge_hertz is None else float(upper_edge_hertz)
        if not 0.0 <= float(lower_edge_hertz) < upper <= nyquist:
            raise ValueError(
                "`lower_edge_hertz` and `upper_edge_hertz` must satisfy "
                f"0 <= lower < upper <= sample_rate / 2 = {nyquist}; received "
                f"{lower_edge_hertz!r} and {upper_edge_hertz!r}."
            )
        self.lower_edge_hertz = float(lower_edge_hertz)
        self.upper_edge_hertz = None if upper_edge_hertz is None else upper

    def build(self, inputs_shape):
        super().build(inputs_shape)
        nyquist = self.sample_rate / 2
        self._mel = mel_weight_matrix(
            self.num_mel_bins,
            self.num_spectrogram_bins,
            self.sample_rate,
            self.lower_edge_hertz,
            nyquist if self.upper_edge_hertz is None else self.upper_edge_hertz,
        )

    def call(self, inputs):
        import tensorflow as tf

        mel = tf.tensordot(self._power(inputs), self._mel, axes=1)
        return keras.ops.cast(tf.math.log(mel + self.epsilon), self.compute_dtype)

    def compute_output_shape(self, inputs_shape):
        n = inputs_shape[1]
        frames = None if n is None else self.output_length(n)
        return (inputs_shape[0], frames, self.num_mel_bins)
