"""Log audio clips, their spectrograms and the model's predictions to TensorBoard."""

from __future__ import annotations

import numpy as np

from keras_seq._validation import check_positive_ints
from keras_seq.callbacks._periodic import PeriodicSummaries


class AudioSamples(PeriodicSummaries):
    """Logs fixed audio clips, their spectrograms and per-epoch predictions.

    At the first logged epoch the clips go to TensorBoard's *Audio* tab and
    their log spectrograms (`keras_seq.audio.LogSpectrogram`, scaled to
    [0, 1], low frequencies at the bottom) to the *Images* tab; every
    `every_n_epochs` epochs `describe_fn(model, audio) -> list of str`
    (e.g. decoded transcripts or detected trigger times) is logged to the
    *Text* tab beside the reference texts and kept in `samples`
    (a list of `(epoch, texts)`). Everything is written under
    `log_dir/audio`.

    Args:
        audio: float waveforms [N, samples] in [-1, 1] (or a list of 1-D
            arrays, zero-padded to the longest).
        sample_rate: int, Hz.
        log_dir: optional TensorBoard directory.
        describe_fn: optional callable `(model, audio [N, samples]) -> list
            of N str`.
        references: optional list of N reference strings shown beside the
            predictions.
        every_n_epochs: int. Defaults to `1`.
        frame_length, frame_step: spectrogram framing. Default `400`, `160`.
        name: summary tag prefix. Defaults to `"audio"`.

    Raises:
        ValueError: empty or badly shaped `audio`, non-positive
            `sample_rate`/`every_n_epochs`, `describe_fn` not callable, or
            `references` of the wrong length.

    Example:
    >>> import numpy as np
    >>> from keras_seq.callbacks import AudioSamples
    >>> clips = np.zeros((2, 1600), "float32")
    >>> callback = AudioSamples(clips, 16000, describe_fn=lambda m, a: ["quiet"] * len(a))
    >>> callback.on_epoch_end(0)
    >>> callback.samples
    [(0, ['quiet', 'quiet'])]
    """

    subdirectory = "audio"

    def __init__(
        self,
        audio,
        sample_rate,
        log_dir=None,
        describe_fn=None,
        references=None,
        every_n_epochs=1,
        frame_length=400,
        frame_step=160,
        name="audio",
    ):
        super().__init__(log_dir, every_n_epochs)
        audio = _stack(audio)
        check_positive_ints({"sample_rate": sample_rate})
        if describe_fn is not None and not callable(describe_fn):
            raise ValueError("`describe_fn` must be callable: (model, audio) -> list of strings.")
        if references is not None and len(references) != len(audio):
            raise ValueError(f"`references` must hold {len(audio)} strings; received {len(references)}.")
        self.audio = audio
        self.sample_rate = sample_rate
        self.describe_fn = describe_fn
        self.references = None if references is None else [str(r) for r in references]
        self.frame_length = frame_length
        self.frame_step = frame_step
        self.name = name
        self.samples = []
        self._clips_logged = False

    def spectrogram_images(self):
        """[N, frequency bins, frames, 1] log spectrograms scaled to [0, 1]."""
        from keras_seq.audio import LogSpectrogram

        length = max(self.audio.shape[1], self.frame_length)
        padded = np.zeros((len(self.audio), length), "float32")
        padded[:, : self.audio.shape[1]] = self.audio
        spectra = np.asarray(LogSpectrogram(self.frame_length, self.frame_step)(padded))
        low = spectra.min(axis=(1, 2), keepdims=True)
        high = spectra.max(axis=(1, 2), keepdims=True)
        scaled = (spectra - low) / np.maximum(high - low, 1e-6)
        return np.transpose(scaled, (0, 2, 1))[:, ::-1, :, None]

    def _log(self, epoch, texts):
        import tensorflow as tf

        with self._summary_writer().as_default():
            if not self._clips_logged:
                tf.summary.audio(
                    f"{self.name}/clips", self.audio[..., None], self.sample_rate, step=epoch, max_outputs=len(self.audio)
                )
                tf.summary.image(
                    f"{self.name}/spectrograms", self.spectrogram_images(), step=epoch, max_outputs=len(self.audio)
                )
                self._clips_logged = True
            if texts is not None:
                rows = ["| clip | reference | prediction |", "| --- | --- | --- |"]
                for i, text in enumerate(texts):
                    reference = self.references[i] if self.references else ""
                    rows.append(f"| {i} | {_cell(reference)} | {_cell(text)} |")
                tf.summary.text(f"{self.name}/predictions", "\n".join(rows), step=epoch)
        self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        if not self._due(epoch):
            return
        texts = None
        if self.describe_fn is not None:
            texts = [str(t) for t in self.describe_fn(self.model, self.audio)]
            if len(texts) != len(self.audio):
                raise ValueError(f"`describe_fn` returned {len(texts)} texts for {len(self.audio)} clips.")
            self.samples.append((epoch, texts))
        if self.log_dir:
            self._log(epoch, texts)


def _stack(audio):
    if isinstance(audio, (list, tuple)):
        if not audio:
            raise ValueError("`audio` must hold at least one clip; received an empty list.")
        clips = [np.asarray(a, "float32").reshape(-1) for a in audio]
        stacked = np.zeros((len(clips), max(len(c) for c in clips)), "float32")
        for i, clip in enumerate(clips):
            stacked[i, : len(clip)] = clip
        return stacked
    audio = np.asarray(audio, "float32")
    if audio.ndim != 2 or audio.shape[0] == 0 or audio.shape[1] == 0:
        raise ValueError(f"`audio` must be waveforms shaped [clips, samples]; received shape {audio.shape}.")
    return audio


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")
