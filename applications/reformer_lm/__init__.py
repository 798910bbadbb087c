"""Long-context language model (Reformer): recall a code given thousands of words earlier.

Documents of 8,192 words (default size) start with a few code words and end by
repeating them; everything between is filler (generated words or English text
from gensim's Lee corpus). A `ReformerLM` (LSH attention, reversible layers,
chunked feed-forward) trained with `model.fit` is scored on the recall
positions (accuracy vs chance) and on perplexity. See
`applications.reformer_lm.data`.
"""
