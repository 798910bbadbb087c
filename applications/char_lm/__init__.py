"""Character-level GRU/LSTM language model of names that samples new ones
(seed 4.4; Karpathy's min-char-rnn, Coursera "Dinosaurus Island").

A GRU/LSTM reads ``<sos> c_1 ... c_n`` and predicts ``c_1 ... c_n <eos>``;
it is scored in nats per character on held-out items and samples new ones
with temperature / top-p until `<eos>`. Data: the US census first names of
the `names` package, a seeded pseudo-dinosaur-name generator, or any text
file (`applications.char_lm.data`). `keras_seq.numpy_rnn` is the NumPy
reference that writes the same kind of RNN's forward and backward pass out
by hand.

    python -m applications.char_lm train --size fast
    python -m applications.char_lm predict "" "" "jo" --temperature 0.8
"""

from applications.contract import Application, Option, Size

SOURCES = ("names", "dinosaurs")

SIZES = {
    "fast": Size("what the test suite trains (~20 s on 2 cores): GRU 128, 2.04 nats/char on names, 92% novel samples", cell="gru", units=128, num_layers=1, embedding_dim=32, dropout=0.0, epochs=10, batch_size=64, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~3 min on 2 cores): 2-layer LSTM 256, 1.98 nats/char, 89% novel samples", cell="lstm", units=256, num_layers=2, embedding_dim=64, dropout=0.4, epochs=16, batch_size=64, learning_rate=2e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=1000, inputs_help="prefixes to complete ('' for a free sample)", data_help="a UTF-8 text file: one item per line (--mode lines) or running text (--mode raw)", empty_inputs=True,
    options=[
        Option("--source", choices=SOURCES, default="names", commands=("train", "evaluate"),
               help="embedded data when --data is not given"),
        Option("--mode", choices=("lines", "raw"), default="lines", commands=("train", "evaluate"),
               help="how --data is read"),
        Option("--temperature", type=float, default=1.0, commands=("evaluate", "predict"),
               help="sampling temperature"),
        Option("--top-p", type=float, commands=("evaluate", "predict"),
               help="nucleus sampling: keep the smallest set of characters reaching this mass"),
        Option("--top-k", type=int, commands=("predict",), help="sample among the k most probable characters"),
        Option("--num-samples", type=int, default=1, commands=("predict",), help="samples per prefix"),
        Option("--seed", type=int, commands=("predict",), help="sampling seed (default: random)"),
    ],
)  # fmt: skip
