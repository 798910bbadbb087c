"""Question answering (seed 15.2): bAbI tasks 1/2/6 with a memory network or
an LSTM, and extractive span QA (SQuAD v1.1 format) with a BERT encoder.

* `applications.qa.babi`: generated bAbI stories for tasks 1, 2 and 6 in the
  exact bAbI text format, and a loader for the real bAbI files.
* `applications.qa.memnet`: an end-to-end memory network (position and
  temporal encoding, 3 hops) and an LSTM reader baseline.
* `applications.qa.data`: generated SQuAD-style passages with questions whose
  answer is a span of the passage, SQuAD v1.1 JSON reader and writer.
* `applications.qa.app`: training, SQuAD exact match / F1, evaluation and
  prediction.

    python -m applications.qa train --task babi1 --model memn2n
    python -m applications.qa train --task squad --output qa_squad.keras
    python -m applications.qa predict "Mary went to the garden. John moved to the office. | Where is Mary?"
"""

from applications.contract import Application, Option, Size

TASKS = ("babi1", "babi2", "babi6", "squad")
BABI_MODELS = ("memn2n", "lstm")

# bAbI: `babi_stories` training stories (5 questions each), `babi_epochs`;
# span QA: `squad_examples` questions, one epoch of task-adaptive MLM + NSP on
# the training passages (`squad_pretrain_epochs`), then `squad_epochs`.
SIZES = {
    "fast": Size("what the test suite trains (~30 s on 2 cores each): bAbI-1 >= 80%; span QA well above chance, far from exact", babi_stories=200, babi_epochs=25, memory_dim=32, lstm_units=32, squad_examples=4_000, squad_pretrain_epochs=1, squad_epochs=4, hidden_dim=64, num_layers=2, learning_rate=2e-3, batch_size=32),
    "default": Size("for real use and RESULTS.md: bAbI-1 100% (~2 min), span QA 100% exact (~9 min) on 2 cores", babi_stories=2_000, babi_epochs=20, memory_dim=50, lstm_units=64, squad_examples=24_000, squad_pretrain_epochs=1, squad_epochs=4, hidden_dim=128, num_layers=2, learning_rate=1e-3, batch_size=32),
}  # fmt: skip

APP = Application(
    __name__, SIZES, exports=("app", "data", "babi", "memnet"), eval_examples=1000, inputs_help="'story | question' (bAbI models) or 'question | context' (span QA) strings", data_help="a bAbI task file (bAbI tasks) or a SQuAD v1.1 JSON file (squad), matching --task",
    options=[
        Option("--task", choices=TASKS, default="babi1", help="what to train"),
        Option("--model", choices=BABI_MODELS, default="memn2n", help="the bAbI model (ignored for squad)"),
        Option("--test-data", metavar="PATH", help="a bAbI test file to score on (default: 10%% of --data)"),
    ],
)  # fmt: skip
