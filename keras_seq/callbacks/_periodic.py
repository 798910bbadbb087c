"""The base of the callbacks that act every few epochs and log to TensorBoard."""

from __future__ import annotations

import os

import keras

from keras_seq._validation import check_positive_ints


class PeriodicSummaries(keras.callbacks.Callback):
    """Acts at the end of every `every_n_epochs`-th epoch (`_due`) and writes
    TensorBoard summaries under `log_dir/<subdirectory>` through one writer,
    opened on first use and closed when training ends."""

    subdirectory = None  # each subclass names its folder under `log_dir`

    def __init__(self, log_dir, every_n_epochs):
        super().__init__()
        check_positive_ints({"every_n_epochs": every_n_epochs})
        self.log_dir = log_dir
        self.every_n_epochs = every_n_epochs
        self._writer = None

    def _due(self, epoch):
        return (epoch + 1) % self.every_n_epochs == 0

    def _summary_writer(self):
        import tensorflow as tf

        if self._writer is None:
            directory = os.path.join(self.log_dir, self.subdirectory)
            self._writer = tf.summary.create_file_writer(directory)
        return self._writer

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
