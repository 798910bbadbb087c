"""Abstractive summarisation with a decoder-only Transformer LM whose loss
covers only the summary: generated reports (sports, sales, weather,
elections, incidents) -> their one-sentence summary. See
`applications.summarization.data`.

    python -m applications.summarization train --size default
"""

from applications.contract import Application, Size

SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores): ROUGE-L ~0.6 but almost no summary exactly right", train_examples=4_000, epochs=4, batch_size=64, hidden_dim=64, num_layers=2, learning_rate=2e-3),
    "default": Size("for real use and RESULTS.md: ~17 min on 2 cores, ROUGE-L 0.95, 58% of summaries exact", train_examples=30_000, epochs=10, batch_size=64, hidden_dim=128, num_layers=3, learning_rate=1e-3),
}  # fmt: skip

APP = Application(__name__, SIZES, eval_examples=1000, inputs_help="articles to summarise", data_help='JSON lines of {"article", "summary"} (or CNN/DailyMail "highlights")')
