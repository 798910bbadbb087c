"""Gradual unfreezing (Howard & Ruder, 2018): thaw one layer group at a time."""

from __future__ import annotations

import keras

from keras_seq._validation import check_positive_ints


class GradualUnfreezing(keras.callbacks.Callback):
    """Unfreezes `layer_groups` one group every `epochs_per_stage` epochs.

    `layer_groups` is ordered from the top of the network (the task head,
    trainable from the first epoch) to the bottom (the embeddings, unfrozen
    last), as in ULMFiT and T5's fine-tuning study: lower layers, which hold
    the most general features, are disturbed last. The optimizer is built
    over all the groups' weights before training so that its slots exist
    when a group thaws; the compiled train step is re-traced at every stage.

    Args:
        layer_groups: list of layers or lists of layers, top first.
        epochs_per_stage: int. Defaults to `1`.
        verbose: bool, print each stage. Defaults to `False`.

    Example:
    >>> import keras, numpy as np
    >>> from keras_seq.callbacks import GradualUnfreezing
    >>> body, head = keras.layers.Dense(4), keras.layers.Dense(1)
    >>> model = keras.Sequential([keras.Input((3,)), body, head])
    >>> model.compile("sgd", "mse")
    >>> callback = GradualUnfreezing([head, body])
    >>> _ = model.fit(np.zeros((8, 3)), np.zeros((8, 1)), epochs=2, verbose=0,
    ...               callbacks=[callback])
    >>> callback.stages
    [1, 2]
    """

    def __init__(self, layer_groups, epochs_per_stage=1, verbose=False):
        super().__init__()
        groups = [list(g) if isinstance(g, (list, tuple)) else [g] for g in layer_groups]
        if not groups or not all(groups):
            raise ValueError("`layer_groups` must be a non-empty list of layers or lists of layers.")
        check_positive_ints({"epochs_per_stage": epochs_per_stage})
        self.layer_groups = groups
        self.epochs_per_stage = epochs_per_stage
        self.verbose = verbose
        self.stages = []

    def _set_stage(self, thawed):
        for i, group in enumerate(self.layer_groups):
            for layer in group:
                layer.trainable = i < thawed
        self.model.make_train_function(force=True)
        self.stages.append(thawed)
        if self.verbose:
            print(f"GradualUnfreezing: {thawed}/{len(self.layer_groups)} layer groups trainable")

    def on_train_begin(self, logs=None):
        for group in self.layer_groups:
            for layer in group:
                layer.trainable = True
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)

    def on_epoch_begin(self, epoch, logs=None):
        thawed = min(len(self.layer_groups), epoch // self.epochs_per_stage + 1)
        if not self.stages or self.stages[-1] != thawed:
            self._set_stage(thawed)
