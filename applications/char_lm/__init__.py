"""Character-level language model (seed 4.4; Karpathy's min-char-rnn, Coursera
"Dinosaurus Island").

A GRU/LSTM reads ``<sos> c_1 ... c_n`` and predicts ``c_1 ... c_n <eos>``;
it is scored in nats per character on held-out items and samples new ones
with temperature / top-p until `<eos>`. Data: the US census first names of
the `names` package, a seeded pseudo-dinosaur-name generator, or any text
file (`applications.char_lm.data`). `keras_seq.numpy_rnn` is the NumPy
companion that writes the same kind of RNN's forward and backward pass out
by hand.

    python -m applications.char_lm train --size fast
    python -m applications.char_lm predict "" "" "jo" --temperature 0.8
"""
