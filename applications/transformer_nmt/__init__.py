"""Number and date translation with a Transformer: German, French, Spanish -> English.

Real translation pairs generated offline: numbers (cardinals up to 10^9,
ordinals, decimals) and whole dates written out in a mix of German, French and
Spanish, translated into English words. See `applications.transformer_nmt.data`.
"""
