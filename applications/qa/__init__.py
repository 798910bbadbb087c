"""Question answering (seed 15.2): bAbI stories and extractive span QA.

* `applications.qa.babi`: generated bAbI stories for tasks 1, 2 and 6 in the
  exact bAbI text format, and a loader for the real bAbI files.
* `applications.qa.memnet`: an end-to-end memory network (position and
  temporal encoding, 3 hops) and an LSTM reader baseline.
* `applications.qa.data`: generated SQuAD-style passages with questions whose
  answer is a span of the passage, SQuAD v1.1 JSON reader and writer.
* `applications.qa.app`: training, SQuAD exact match / F1, evaluation and
  prediction; `python -m applications.qa train|evaluate|predict --task
  babi1|babi2|babi6|squad`.
"""
