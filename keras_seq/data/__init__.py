"""tf.data helpers: padded and length-bucketed batches, multi-task mixing.

Example:

>>> from keras_seq.data import mixing_weights, padded_batches
>>> next(iter(padded_batches([[4, 5, 6], [7]], batch_size=2))).numpy().tolist()
[[4, 5, 6], [7, 0, 0]]
>>> mixing_weights({"a": 3, "b": 1}, "equal")
{'a': 0.5, 'b': 0.5}
"""

from keras_seq.data.batching import bucket_by_length, padded_batches
from keras_seq.data.mixing import mix_datasets, mixing_weights

__all__ = ["bucket_by_length", "mix_datasets", "mixing_weights", "padded_batches"]
