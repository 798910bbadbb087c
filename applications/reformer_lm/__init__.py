"""Long-context language model (Reformer): recall a code given thousands of words earlier.

Documents of 8,192 words (default size) start with a few code words, each
followed by a key (a colour name), and end by asking the keys again, each to be
followed by its code word; everything between is filler (generated words or
English text from gensim's Lee corpus). A `ReformerLM` (LSH attention,
reversible layers, chunked feed-forward, token shift) trained with `model.fit`
through a curriculum of document lengths is scored on the recall positions
(accuracy vs chance) and on perplexity. See `applications.reformer_lm.data`.

    python -m applications.reformer_lm train --size default
"""

from applications.contract import Application, Option, Size

# `curriculum` holds `(length, documents, batch_size, epochs)` stages trained,
# in order, before the final stage of `train_examples` documents of `length`
# words (`batch_size`, `epochs`); one warm-up + cosine learning-rate schedule
# spans all stages. `eval_hashes`: LSH rounds when scoring (same weights).
SIZES = {
    "fast": Size("what the test suite trains (~30 s on 2 cores): 256-word documents, recall 100% (chance 3.8%)", length=256, train_examples=64, epochs=1, batch_size=8, hidden_dim=32, num_layers=2, num_heads=2, bucket_size=16, num_hashes=2, learning_rate=4e-3, curriculum=((64, 2048, 32, 5),), eval_hashes=8),
    "default": Size("for real use and RESULTS.md (~3 min on a quiet 2-core machine): 8,192-word documents, recall 100%", length=8192, train_examples=64, epochs=1, batch_size=2, hidden_dim=64, num_layers=2, num_heads=2, bucket_size=64, num_hashes=2, learning_rate=3e-3, curriculum=((128, 4096, 32, 6), (1024, 512, 8, 2)), eval_hashes=8),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=32, inputs_help="prompts to continue", data_help="filler text: 'generated' (default), 'english' (gensim's Lee corpus) or a text file", special_data=("generated", "english"),
    options=[Option("--max-new-words", type=int, default=8, commands=("predict",), help="words to generate per prompt")],
)  # fmt: skip
