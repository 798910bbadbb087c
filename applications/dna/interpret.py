"""What a trained `RegulatoryNet` learned, as genomics users read it.

* **Filters -> PWMs** (`filter_pfms`): for each first-layer filter, the
  windows of the input where its activation exceeds half its largest
  activation over the data are stacked into a count matrix (Kelley et al.
  2016, Basset; Quang & Xie 2016, DanQ), then trimmed of uninformative flanks.
* **TOMTOM** (`tomtom`): each PWM is compared with every JASPAR CORE
  vertebrate matrix in the `pyjaspar` wheel by `memelite`'s TOMTOM
  (Gupta et al. 2007); the p-values of a query over all targets become
  q-values by Benjamini-Hochberg (as MEME's Tomtom reports them), and
  `motif_report` says which planted factors a filter recovers (q < 0.05).
* **Logos** (`logo_png`, `saliency_logo_png`): information-content
  sequence logos drawn by `logomaker`, saved as PNG and logged to
  TensorBoard (`log_images`).
* **Saliency**: `gradient_times_input` (the gradient of a logit times the
  one-hot input) and `mutagenesis` (the change of the logit for every
  single-base substitution, in-silico mutagenesis).
"""

from __future__ import annotations

import os

import numpy as np

from applications import contract
from applications.dna.data import ALPHABET, jaspar_collection, one_hot

Q_THRESHOLD = 0.05
ACTIVATION_THRESHOLD = (
    0.5  # a window counts when it activates the filter above this share of its maximum
)
MIN_SITES = 10  # filters that fire on fewer windows make no PWM
TRIM_BITS = 0.3  # flanking columns below this information content are trimmed


def information_content(probabilities):
    """Bits per column of a ``[4, width]`` probability matrix (2 - entropy)."""
    p = np.clip(probabilities, 1e-12, 1)
    return 2 + (p * np.log2(p)).sum(axis=0)


def to_probabilities(counts, pseudocount=0.25):
    """A ``[4, width]`` probability matrix from counts (a `pseudocount` per base)."""
    counts = np.asarray(counts, "float64") + pseudocount
    return counts / counts.sum(axis=0, keepdims=True)


def trim(probabilities, min_bits=TRIM_BITS):
    """`probabilities` without the leading and trailing columns of less than
    `min_bits` information content (None when nothing is left)."""
    informative = np.flatnonzero(information_content(probabilities) >= min_bits)
    if informative.size == 0:
        return None
    return probabilities[:, informative[0] : informative[-1] + 1]


def filter_pfms(model, sequences, threshold=ACTIVATION_THRESHOLD, batch_size=256):
    """``(counts, sites)``: for each first-layer filter, the ``[4, kernel]``
    base counts of the windows of `sequences` whose activation exceeds
    `threshold` times the filter's largest activation, and how many windows
    those were."""
    from keras import ops

    x = one_hot(sequences)
    width = model.kernel_size
    activations = np.concatenate(
        [
            ops.convert_to_numpy(
                ops.cast(model.motif_activations(x[s : s + batch_size]), "float32")
            )
            for s in range(0, len(x), batch_size)
        ]
    )  # fmt: skip  [N, P, F]
    counts = np.zeros((activations.shape[-1], 4, width))
    sites = np.zeros(activations.shape[-1], "int64")
    # Every window of every sequence: [N, P, width, 4].
    windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=1).transpose(
        0, 1, 3, 2
    )
    for f in range(activations.shape[-1]):
        peak = activations[..., f].max()
        if peak <= 0:
            continue
        n, p = np.nonzero(activations[..., f] > threshold * peak)
        counts[f] = windows[n, p].sum(axis=0).T
        sites[f] = len(n)
    return counts, sites


def tomtom(queries, targets=None):
    """``(p_values, q_values, strands)`` ``[len(queries), len(targets)]`` of
    TOMTOM between ``[4, width]`` probability matrices (targets: the JASPAR
    collection, as probabilities); q-values by Benjamini-Hochberg over each
    query's targets; strand 1 where the target's reverse complement matched."""
    from scipy.stats import false_discovery_control

    try:
        from memelite import tomtom as memelite_tomtom
    except ImportError as error:
        raise ImportError(
            "matching motifs needs the `memelite` package (extra `nlp`)"
        ) from error
    targets = (
        [m.probabilities() for m in jaspar_collection()] if targets is None else targets
    )
    queries = [np.asarray(q, "float64") for q in queries]
    targets = [np.asarray(t, "float64") for t in targets]
    p_values, _, _, _, strands = memelite_tomtom(queries, targets)
    q_values = false_discovery_control(np.clip(p_values, 0, 1), axis=1)
    return p_values, q_values, strands


def motif_report(
    model,
    examples,
    planted=None,
    log_dir=None,
    logo_dir=None,
    q_threshold=Q_THRESHOLD,
    top=3,
):
    """Filters -> PWMs -> TOMTOM against JASPAR.

    Args:
        model: a `RegulatoryNet`.
        examples: `Examples` to scan (their positives, when they have any).
        planted: JASPAR matrix ids that were planted (to say which a filter recovers).
        log_dir: log the logos of the matched filters to TensorBoard there
            (under ``motifs/``) and save them as PNG files in ``log_dir/logos``.
        logo_dir: save the logos as PNG files here instead.
        q_threshold: the q-value a match needs.
        top: the best matches to keep per filter.

    Returns:
        dict: ``filters`` (per filter with a PWM: its ``sites``, ``consensus``
        and ``matches`` ``[(matrix_id, name, q)]``), ``planted`` (per planted
        id: ``recovered``, the best ``filter``, its ``q`` and the target's
        ``rank`` among that filter's matches), ``q_threshold`` and ``logos``
        (the PNG files written).
    """
    positive = examples.labels.max(axis=1) > 0
    sequences = [s for s, keep in zip(examples.sequences, positive) if keep] or list(
        examples.sequences
    )
    counts, sites = filter_pfms(model, sequences)
    kept, queries = [], []
    for f in range(len(counts)):
        trimmed = trim(to_probabilities(counts[f])) if sites[f] >= MIN_SITES else None
        if trimmed is not None and trimmed.shape[1] >= 4:
            kept.append(f)
            queries.append(trimmed)
    targets = jaspar_collection()
    report = {"filters": {}, "planted": {}, "q_threshold": q_threshold, "logos": []}
    if not queries:
        report["planted"] = {
            m: {"recovered": False, "filter": None, "q": 1.0, "rank": None}
            for m in planted or ()
        }
        return report
    with contract.stage("matching filters against JASPAR with TOMTOM"):
        _, q_values, strands = tomtom(queries, [t.probabilities() for t in targets])
    for row, f in enumerate(kept):
        order = np.argsort(q_values[row], kind="stable")
        report["filters"][f] = {
            "sites": int(sites[f]),
            "consensus": "".join(ALPHABET[i] for i in queries[row].argmax(axis=0)),
            "matches": [(targets[t].matrix_id, targets[t].name, float(q_values[row, t])) for t in order[:top]
                        if q_values[row, t] < q_threshold],
        }  # fmt: skip
    index = {t.matrix_id: i for i, t in enumerate(targets)}
    for matrix_id in planted or ():
        column = q_values[:, index[matrix_id]]
        best = int(np.argmin(column))
        rank = int((q_values[best] < column[best]).sum()) + 1
        report["planted"][matrix_id] = {
            "name": targets[index[matrix_id]].name, "recovered": bool(column[best] < q_threshold),
            "filter": kept[best], "q": float(column[best]), "rank": rank,
        }  # fmt: skip
    if log_dir or logo_dir:
        images = _logos(report, queries, kept, strands, targets, index)
        folder = logo_dir or os.path.join(log_dir, "logos")
        os.makedirs(folder, exist_ok=True)
        for name, png in images:
            path = os.path.join(folder, f"{name}.png")
            with open(path, "wb") as handle:
                handle.write(png)
            report["logos"].append(path)
        if log_dir:
            log_images(os.path.join(log_dir, "motifs"), images)
    return report


def _logos(report, queries, kept, strands, targets, index):
    """``[(name, png)]``: each planted factor's best filter beside the JASPAR
    matrix (on the strand TOMTOM aligned), else each matched filter's logo."""
    images = []
    rows = {f: r for r, f in enumerate(kept)}
    if report["planted"]:
        for matrix_id, hit in report["planted"].items():
            row, target = rows[hit["filter"]], targets[index[matrix_id]]
            reference = target.probabilities()
            if strands[row, index[matrix_id]]:
                reference = reference[::-1, ::-1]
            title = f"filter {hit['filter']} ~ {target.name} ({matrix_id}), q = {hit['q']:.2g}"
            images.append(
                (
                    f"{target.name}_{matrix_id}",
                    logo_png(
                        [queries[row], reference],
                        title,
                        ["learned filter", f"JASPAR {target.name}"],
                    ),
                )
            )
    else:
        for f, info in report["filters"].items():
            if info["matches"]:
                matrix_id, name, q = info["matches"][0]
                images.append(
                    (
                        f"filter{f}_{name}",
                        logo_png(
                            [queries[rows[f]]], f"filter {f} ~ {name} (q = {q:.2g})"
                        ),
                    )
                )
    return images


def _logomaker():
    try:
        import logomaker
    except ImportError as error:
        raise ImportError(
            "sequence logos need the `logomaker` package (extra `nlp`)"
        ) from error
    return logomaker


def logo_png(matrices, title="", subtitles=None):
    """PNG bytes of information-content logos of ``[4, width]`` probability
    matrices, one row each."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import pandas as pd

    from keras_seq.callbacks import figure_to_png

    logomaker = _logomaker()
    width = max(m.shape[1] for m in matrices)
    fig, axes = plt.subplots(
        len(matrices),
        1,
        figsize=(max(4, 0.45 * width), 1.9 * len(matrices)),
        squeeze=False,
    )
    for k, (ax, matrix) in enumerate(zip(axes[:, 0], matrices)):
        bits = matrix * information_content(matrix)[None, :]
        logomaker.Logo(
            pd.DataFrame(bits.T, columns=list(ALPHABET)), ax=ax, color_scheme="classic"
        )
        ax.set_ylim(0, 2)
        ax.set_ylabel("bits")
        ax.set_title(subtitles[k] if subtitles else "", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return figure_to_png(fig)


def saliency_logo_png(sequence, contributions, title=""):
    """PNG bytes of a saliency logo: each base of `sequence` drawn as high as
    its contribution (``[L, 4]`` or ``[L]``; negative ones below the axis)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import pandas as pd

    from keras_seq.callbacks import figure_to_png

    logomaker = _logomaker()
    contributions = np.asarray(contributions, "float64")
    if contributions.ndim == 2:
        contributions = contributions.sum(axis=1)
    heights = one_hot([sequence])[0] * contributions[:, None]
    fig, ax = plt.subplots(figsize=(min(40, max(6, 0.12 * len(sequence))), 2.2))
    logomaker.Logo(
        pd.DataFrame(heights, columns=list(ALPHABET)), ax=ax, color_scheme="classic"
    )
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure_to_png(fig)


def log_images(log_dir, images, step=0):
    """Writes ``[(name, png)]`` to TensorBoard's Images tab under `log_dir`."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for name, png in images:
            tf.summary.image(
                name, tf.image.decode_png(png, channels=4)[None], step=step
            )
    writer.flush()
    writer.close()


def gradient_times_input(model, sequences, output=0):
    """``[N, L, 4]``: the gradient of logit `output` with respect to the
    one-hot input, times the input (so only the bases present count)."""
    import tensorflow as tf

    x = tf.constant(one_hot(sequences))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x)[:, output]
    return (tape.gradient(logits, x) * x).numpy()


def mutagenesis(model, sequence, output=0, batch_size=512):
    """``[L, 4]``: logit `output` of every single-base substitution of
    `sequence` minus that of `sequence` (0 at the bases it has)."""
    x = one_hot([sequence])[0]
    length = len(x)
    mutants = np.repeat(x[None], 4 * length, axis=0)
    positions = np.repeat(np.arange(length), 4)
    bases = np.tile(np.arange(4), length)
    mutants[np.arange(4 * length), positions] = 0
    mutants[np.arange(4 * length), positions, bases] = 1
    from keras import ops

    logits = np.concatenate([
        ops.convert_to_numpy(model(mutants[s : s + batch_size]))[:, output] for s in range(0, len(mutants), batch_size)
    ])  # fmt: skip
    logits = logits.reshape(length, 4)
    present = x.astype(bool)
    # The reference is the unchanged sequence, as the model scored it in the batch
    # (a separate call may round differently); substituting a base by itself changes nothing.
    known = np.flatnonzero(present.any(axis=1))  # positions that are not N
    if known.size:
        reference = logits[known[0]][present[known[0]]][0]
    else:
        reference = float(ops.convert_to_numpy(model(x[None]))[0, output])
    changes = logits - reference
    changes[present] = 0.0
    return changes


def mutagenesis_contributions(model, sequence, output=0):
    """``[L, 4]`` importance of each present base: minus the mean change of
    the logit when it is substituted (the in-silico mutagenesis score)."""
    changes = mutagenesis(model, sequence, output)
    present = one_hot([sequence])[0]
    mean_change = changes.sum(axis=1) / 3
    return -mean_change[:, None] * present


def top_window(per_position, width):
    """``(start, end)`` of the `width`-base window with the largest total of
    `per_position`.

    >>> top_window([0, 1, 5, 4, 0, 0], 2)
    (2, 4)
    """
    values = np.asarray(per_position, "float64")
    width = min(width, len(values))
    sums = np.convolve(values, np.ones(width), mode="valid")
    start = int(np.argmax(sums))
    return start, start + width
