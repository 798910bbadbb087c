"""Abstractive summarization of generated reports: article -> one-sentence summary.

Sports, sales, weather, election and incident reports generated offline, whose
one-sentence summary is determined by the article (the winner from the scores,
the trend from the monthly figures, the warmest and coldest city, ...). See
`applications.summarization.data`.
"""
