"""Long-context language model (Reformer): recall a code given thousands of words earlier.

Documents of 8,192 words (default size) start with a few code words, each
followed by a key (a colour name), and end by asking the keys again, each to be
followed by its code word; everything between is filler (generated words or
English text from gensim's Lee corpus). A `ReformerLM` (LSH attention,
reversible layers, chunked feed-forward, token shift) trained with `model.fit`
through a curriculum of document lengths is scored on the recall positions
(accuracy vs chance) and on perplexity. See `applications.reformer_lm.data`.
"""
