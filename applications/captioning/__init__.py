"""Image captioning with visual attention over procedurally drawn scenes.

A CNN encodes a 64x64 image of one or two coloured shapes into a grid of
features; an LSTM decoder with additive (Bahdanau) attention over the grid, or
a Transformer decoder, writes the caption ("a small blue square to the left of
a large red circle"). See `applications.captioning.data`.
"""
