"""BERT pretraining from scratch (masked LM + next sentence prediction) on
gensim's Lee news corpus, then fine-tuning for span QA on generated passages.

See `applications.bert_pretraining.app`.

    python -m applications.bert_pretraining train --size default
    python -m applications.bert_pretraining predict "where was anna born ? | anna was born in lisbon ."
"""

from applications.contract import Application, Size

# `qa_pretrain_examples`: (question, passage) pairs added to pretraining;
# `sentence_segments`: passage sentence types (see `app.qa_pair`).
SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores): MLM learns a little, span QA ~30% exact", vocabulary_size=2000, sequence_length=64, hidden_dim=64, num_layers=2, pretrain_epochs=2, mask_copies=1, qa_examples=1500, qa_epochs=3, batch_size=32, qa_pretrain_examples=1000, qa_learning_rate=1e-3, sentence_segments=8),
    "default": Size("for real use and RESULTS.md (~15 min on 2 cores): span QA 100% exact on held-out passages", vocabulary_size=4000, sequence_length=64, hidden_dim=128, num_layers=2, pretrain_epochs=3, mask_copies=2, qa_examples=24_000, qa_epochs=4, batch_size=32, qa_pretrain_examples=16_000, qa_learning_rate=1e-3, sentence_segments=8),
}  # fmt: skip

APP = Application(__name__, SIZES, eval_examples=1000, inputs_help="'question | context' strings", data_help="pretraining text in BERT's format: one sentence per line, blank lines between documents", evaluate_data_help="a SQuAD v1.1 JSON to evaluate on instead of generated passages")
