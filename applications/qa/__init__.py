"""Extractive question answering on generated passages: (context, question) -> span.

Short passages about several people (where they were born, live and moved,
their jobs, ages and counts of things), generated offline with questions whose
answer is a contiguous span of the passage, in SQuAD's format. See
`applications.qa.data`.
"""
