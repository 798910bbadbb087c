"""Prebuilt applications of keras_seq, one package each, run as
`python -m applications.<name> train|evaluate|predict` (see `--help`).

`applications.contract` is what every application is made of and shares;
`import applications.<name>` registers the Keras classes its saved models
need, so `keras.saving.load_model(path)` reloads them.
"""
