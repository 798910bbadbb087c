"""Log generated text samples to TensorBoard while a model trains."""

from __future__ import annotations

from keras_seq.callbacks._periodic import PeriodicSummaries


class TextSamples(PeriodicSummaries):
    """Generates text from fixed prompts every few epochs and logs it.

    Watching samples improve is often the most telling view of a language
    model or translator in training. `generate_fn(model, prompts) -> list of
    str` runs at the end of every `every_n_epochs`-th epoch; the results are
    kept in `samples` (a list of `(epoch, texts)`) and, with `log_dir`, written
    to TensorBoard's *Text* tab under `log_dir/samples` as a Markdown table
    of prompt and sample (tag `name`).

    Args:
        generate_fn: callable `(model, prompts) -> list of str`, e.g. a
            model's `generate` followed by detokenisation.
        prompts: list of prompts (strings, or anything `generate_fn` takes;
            shown with `str`).
        log_dir: optional TensorBoard directory.
        every_n_epochs: int. Defaults to `1`.
        name: summary tag. Defaults to `"samples"`.

    Example:
    >>> from keras_seq.callbacks import TextSamples
    >>> callback = TextSamples(lambda model, ps: [p.upper() for p in ps], ["ab", "cd"])
    >>> callback.on_epoch_end(0)
    >>> callback.samples
    [(0, ['AB', 'CD'])]
    """

    subdirectory = "samples"

    def __init__(self, generate_fn, prompts, log_dir=None, every_n_epochs=1, name="samples"):
        super().__init__(log_dir, every_n_epochs)
        if not callable(generate_fn):
            raise ValueError("`generate_fn` must be callable: (model, prompts) -> list of strings.")
        prompts = list(prompts)
        if not prompts:
            raise ValueError("`prompts` must hold at least one prompt; received an empty list.")
        self.generate_fn = generate_fn
        self.prompts = prompts
        self.name = name
        self.samples = []

    def on_epoch_end(self, epoch, logs=None):
        if not self._due(epoch):
            return
        texts = [str(t) for t in self.generate_fn(self.model, self.prompts)]
        if len(texts) != len(self.prompts):
            raise ValueError(f"`generate_fn` returned {len(texts)} samples for {len(self.prompts)} prompts.")
        self.samples.append((epoch, texts))
        if self.log_dir:
            import tensorflow as tf

            with self._summary_writer().as_default():
                tf.summary.text(self.name, markdown_table(self.prompts, texts), step=epoch)
            self._writer.flush()


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(prompts, samples):
    """A two-column Markdown table (TensorBoard renders it in the Text tab).

    >>> print(markdown_table(["a|b"], ["c"]))
    | prompt | sample |
    | --- | --- |
    | a\\|b | c |
    """
    rows = ["| prompt | sample |", "| --- | --- |"]
    rows += [f"| {_cell(p)} | {_cell(s)} |" for p, s in zip(prompts, samples)]
    return "\n".join(rows)
