"""T5-style multi-task text-to-text data: every task is ``input text -> target text``.

The task is named by a prefix of the input (``"date to iso: "``, ``"translate
german to english: "``, ``"answer: "``), so one sequence-to-sequence model
learns them all. The examples reuse the dates, number-translation and QA
generators; see `applications.text_to_text.data`.
"""
