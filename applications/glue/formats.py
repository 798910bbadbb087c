"""The official GLUE file layouts: reading a task directory, writing task
files and leaderboard submissions.

A GLUE data directory (what GLUE's `download_glue_data.py` makes, or the
per-task zips of gluebenchmark.com unpacked side by side) holds one folder
per task::

    CoLA/   train.tsv dev.tsv test.tsv      (train/dev: no header, 4 columns)
    SST-2/  train.tsv dev.tsv test.tsv
    MRPC/   train.tsv dev.tsv test.tsv
    STS-B/  train.tsv dev.tsv test.tsv
    QQP/    train.tsv dev.tsv test.tsv
    MNLI/   train.tsv dev_matched.tsv dev_mismatched.tsv test_matched.tsv test_mismatched.tsv
    QNLI/   train.tsv dev.tsv test.tsv
    RTE/    train.tsv dev.tsv test.tsv
    WNLI/   train.tsv dev.tsv test.tsv
    diagnostic/diagnostic.tsv               (AX; also found as AX.tsv or AX/AX.tsv)

Every file is tab-separated UTF-8 without quoting (quotes are text), read
as GLUE's own scripts read them (`csv` with `QUOTE_NONE`); a byte-order
mark is ignored. `LAYOUTS` lists each file's columns; the loaders check the
header (or the column count of CoLA's headerless files) and every row, and
raise a `ValueError` naming the file and line.

A submission is one file per evaluation set, named as the leaderboard
expects (`CoLA.tsv`, ..., `MNLI-m.tsv`, `MNLI-mm.tsv`, `AX.tsv`), holding
``index<TAB>prediction`` under that header, with the task's label strings
(``entailment``, ``not_entailment``, ...) or ``0``/``1`` where GLUE uses
numbers, and a score for STS-B.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import sys

#: MNLI's twelve columns of train.tsv; dev files add label2..label5 before gold_label.
_MNLI = ("index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
         "sentence1_parse", "sentence2_parse", "sentence1", "sentence2")  # fmt: skip
_STSB = ("index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2")


@dataclasses.dataclass(frozen=True)
class Task:
    """One GLUE task: its folder, text columns, labels and metrics.

    `labels` are the strings the files use, in the order of the model's
    outputs (None: a regression task, scored 0-5). `submission_labels`: the
    same classes as the submission writes them. `text` names the text
    columns of the labelled files, `test_text` those of the test file.
    """

    name: str
    labels: tuple | None
    metrics: tuple
    text: tuple
    label_column: str
    evaluations: tuple  # (name, dev file, test file, submission file)

    @property
    def is_regression(self):
        return self.labels is None

    @property
    def is_pair(self):
        return len(self.text) == 2


TASKS = {
    task.name: task
    for task in (
        Task("CoLA", ("0", "1"), ("mcc",), ("sentence",), "label", (("CoLA", "dev.tsv", "test.tsv", "CoLA.tsv"),)),
        Task("SST-2", ("0", "1"), ("accuracy",), ("sentence",), "label", (("SST-2", "dev.tsv", "test.tsv", "SST-2.tsv"),)),
        Task("MRPC", ("0", "1"), ("f1", "accuracy"), ("#1 String", "#2 String"), "Quality",
             (("MRPC", "dev.tsv", "test.tsv", "MRPC.tsv"),)),
        Task("STS-B", None, ("pearson", "spearman"), ("sentence1", "sentence2"), "score",
             (("STS-B", "dev.tsv", "test.tsv", "STS-B.tsv"),)),
        Task("QQP", ("0", "1"), ("f1", "accuracy"), ("question1", "question2"), "is_duplicate",
             (("QQP", "dev.tsv", "test.tsv", "QQP.tsv"),)),
        Task("MNLI", ("entailment", "neutral", "contradiction"), ("accuracy",), ("sentence1", "sentence2"), "gold_label",
             (("MNLI-m", "dev_matched.tsv", "test_matched.tsv", "MNLI-m.tsv"),
              ("MNLI-mm", "dev_mismatched.tsv", "test_mismatched.tsv", "MNLI-mm.tsv"),
              ("AX", None, "diagnostic", "AX.tsv"))),
        Task("QNLI", ("entailment", "not_entailment"), ("accuracy",), ("question", "sentence"), "label",
             (("QNLI", "dev.tsv", "test.tsv", "QNLI.tsv"),)),
        Task("RTE", ("entailment", "not_entailment"), ("accuracy",), ("sentence1", "sentence2"), "label",
             (("RTE", "dev.tsv", "test.tsv", "RTE.tsv"),)),
        Task("WNLI", ("0", "1"), ("accuracy",), ("sentence1", "sentence2"), "label",
             (("WNLI", "dev.tsv", "test.tsv", "WNLI.tsv"),)),
    )
}  # fmt: skip

#: Every evaluation set: name -> (task, dev file or None, test file, submission file).
EVALUATIONS = {name: (task, dev, test, out) for task in TASKS.values() for name, dev, test, out in task.evaluations}

#: The columns of each file: (task, kind) -> header; kind is "train", "dev" or "test".
#: CoLA's train and dev files have no header: their four columns are the
#: source code, the label, the original author's mark ("*" if unacceptable)
#: and the sentence.
LAYOUTS = {
    ("CoLA", "train"): ("source", "label", "author_label", "sentence"),
    ("CoLA", "dev"): ("source", "label", "author_label", "sentence"),
    ("CoLA", "test"): ("index", "sentence"),
    ("SST-2", "train"): ("sentence", "label"),
    ("SST-2", "dev"): ("sentence", "label"),
    ("SST-2", "test"): ("index", "sentence"),
    ("MRPC", "train"): ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"),
    ("MRPC", "dev"): ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"),
    ("MRPC", "test"): ("index", "#1 ID", "#2 ID", "#1 String", "#2 String"),
    ("STS-B", "train"): (*_STSB, "score"),
    ("STS-B", "dev"): (*_STSB, "score"),
    ("STS-B", "test"): _STSB,
    ("QQP", "train"): ("id", "qid1", "qid2", "question1", "question2", "is_duplicate"),
    ("QQP", "dev"): ("id", "qid1", "qid2", "question1", "question2", "is_duplicate"),
    ("QQP", "test"): ("id", "question1", "question2"),
    ("MNLI", "train"): (*_MNLI, "label1", "gold_label"),
    ("MNLI", "dev"): (*_MNLI, "label1", "label2", "label3", "label4", "label5", "gold_label"),
    ("MNLI", "test"): _MNLI,
    ("MNLI", "diagnostic"): ("index", "sentence1", "sentence2"),
    ("QNLI", "train"): ("index", "question", "sentence", "label"),
    ("QNLI", "dev"): ("index", "question", "sentence", "label"),
    ("QNLI", "test"): ("index", "question", "sentence"),
    ("RTE", "train"): ("index", "sentence1", "sentence2", "label"),
    ("RTE", "dev"): ("index", "sentence1", "sentence2", "label"),
    ("RTE", "test"): ("index", "sentence1", "sentence2"),
    ("WNLI", "train"): ("index", "sentence1", "sentence2", "label"),
    ("WNLI", "dev"): ("index", "sentence1", "sentence2", "label"),
    ("WNLI", "test"): ("index", "sentence1", "sentence2"),
}

#: Where the AX diagnostic may be, relative to the GLUE directory.
DIAGNOSTIC_PATHS = ("diagnostic/diagnostic.tsv", "diagnostic/AX.tsv", "AX/AX.tsv", "AX.tsv")
#: MNLI/SNLI rows without annotator agreement carry this gold label and are skipped.
NO_GOLD_LABEL = "-"


@dataclasses.dataclass(frozen=True)
class Example:
    """One row: `index` (the file's index or id, or the row number), the
    text(s), the label (a label string, a float score, or None in test
    files) and, for MNLI and STS-B, the genre."""

    index: str
    text_a: str
    text_b: str | None = None
    label: str | float | None = None
    genre: str | None = None


def split_kind(filename):
    """"train", "dev", "test" or "diagnostic" for a GLUE file name."""
    stem = os.path.basename(filename).removesuffix(".tsv")
    if stem in ("diagnostic", "AX"):
        return "diagnostic"
    return stem.split("_")[0]


# -- reading -----------------------------------------------------------------------


def _rows(path):
    """`(line number, fields)` of a GLUE TSV file (no quoting, BOM ignored)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # MNLI's parse columns are long
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, fields in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if fields and any(field.strip() for field in fields):
                yield number, fields


def read_file(path, task, kind=None, skip_malformed=False):
    """Reads one GLUE file of `task` (a name or `Task`) into `Example`s.

    Args:
        path: the .tsv file.
        task: "CoLA", "SST-2", ... (the diagnostic is read as "MNLI").
        kind: "train", "dev", "test" or "diagnostic" (default: from the
            file name).
        skip_malformed: skip rows with the wrong number of columns instead
            of raising (GLUE's own processors skip such rows in QQP).

    Raises:
        ValueError: the header is not the official one, a row has the
            wrong number of columns, or a label is not one of the task's.
    """
    task = TASKS[task] if isinstance(task, str) else task
    kind = kind or split_kind(path)
    columns = LAYOUTS.get((task.name, kind))
    if columns is None:
        raise ValueError(f"{path}: {task.name} has no {kind!r} file; it has {sorted(k for t, k in LAYOUTS if t == task.name)}.")
    rows = _rows(path)
    if task.name != "CoLA" or kind == "test":
        number, header = next(rows, (1, []))
        if tuple(header) != columns:
            raise ValueError(
                f"{path}, line {number}: expected the {task.name} {kind} header {_tabbed(columns)}; found {_tabbed(header)}."
            )
    examples = []
    for number, fields in rows:
        if len(fields) != len(columns):
            if skip_malformed:
                continue
            raise ValueError(f"{path}, line {number}: expected {len(columns)} tab-separated columns ({_tabbed(columns)}); found {len(fields)}.")
        example = _example(dict(zip(columns, fields)), task, kind, len(examples), f"{path}, line {number}")
        if example is not None:
            examples.append(example)
    return examples


def _tabbed(columns):
    return "<TAB>".join(columns) if columns else "an empty line"


def _example(row, task, kind, position, where):
    text = ("sentence1", "sentence2") if kind == "diagnostic" else task.text
    index = row.get("index", row.get("id", str(position)))
    label = None
    if kind in ("train", "dev"):
        label = row[task.label_column].strip()
        if task.name == "MNLI" and label == NO_GOLD_LABEL:
            return None
        label = _label(label, task, where)
    return Example(index, row[text[0]], row[text[1]] if len(text) > 1 else None, label, row.get("genre"))


def _label(value, task, where):
    if task.is_regression:
        try:
            score = float(value)
        except ValueError:
            score = float("nan")
        if not 0.0 <= score <= 5.0:
            raise ValueError(f"{where}: the {task.name} score must be a number in [0, 5]; found {value!r}.")
        return score
    if value not in task.labels:
        raise ValueError(f"{where}: the {task.name} label must be one of {list(task.labels)}; found {value!r}.")
    return value


def task_files(directory, task):
    """`{split: path}` of the task's files present in a GLUE directory
    (splits "train", "dev"/"dev_matched"/..., "test"/..., "diagnostic")."""
    task = TASKS[task] if isinstance(task, str) else task
    folder = os.path.join(directory, task.name)
    found = {}
    for name in ("train.tsv", *(f for _, dev, test, _ in task.evaluations for f in (dev, test) if f and f != "diagnostic")):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            found[name.removesuffix(".tsv")] = path
    if task.name == "MNLI":
        for relative in DIAGNOSTIC_PATHS:
            path = os.path.join(directory, relative)
            if os.path.isfile(path):
                found["diagnostic"] = path
                break
    return found


def load_glue(directory, tasks=None, skip_malformed=False):
    """Reads a GLUE data directory: `{task: {split: [Example, ...]}}` for
    every task folder present (or the named `tasks`); MNLI's splits are
    "train", "dev_matched", "dev_mismatched", "test_matched",
    "test_mismatched" and "diagnostic" (AX).

    Raises:
        ValueError: `directory` holds no GLUE task folder (or lacks a
            named task), or a file is malformed (see `read_file`).
    """
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {os.fspath(directory)!r} is not a directory.")
    names = list(tasks) if tasks else list(TASKS)
    unknown = [name for name in names if name not in TASKS]
    if unknown:
        raise ValueError(f"`tasks` must be GLUE task names {list(TASKS)}; received {unknown}.")
    data = {}
    for name in names:
        files = task_files(directory, name)
        if not files:
            if tasks:
                raise ValueError(f"{directory}: no {name} files (expected {os.path.join(name, 'train.tsv')}, ...).")
            continue
        data[name] = {split: read_file(path, name, skip_malformed=skip_malformed) for split, path in files.items()}
    if not data:
        raise ValueError(
            f"{directory} holds no GLUE task folder (expected folders named {', '.join(TASKS)}, each with train.tsv, dev.tsv, test.tsv)."
        )
    return data


# -- writing -----------------------------------------------------------------------


def write_file(path, task, kind, examples):
    """Writes `examples` as the official `task` `kind` file (the columns
    GLUE's files have but the tasks do not use are filled in plausibly:
    MRPC/QQP ids, STS-B's genre and source, MNLI's parses and annotator
    labels)."""
    task = TASKS[task] if isinstance(task, str) else task
    columns = LAYOUTS[(task.name, kind)]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if task.name != "CoLA" or kind == "test":
            handle.write("\t".join(columns) + "\n")
        for position, example in enumerate(examples):
            row = _row(task, kind, example, position)
            fields = [row[column] for column in columns]
            for field in fields:
                if "\t" in field or "\n" in field or "\r" in field:
                    raise ValueError(f"example {position} of {task.name} holds a tab or line break: {field!r}.")
            handle.write("\t".join(fields) + "\n")
    return path


def _row(task, kind, example, position):
    index = str(example.index)
    label = "" if example.label is None else (f"{example.label:.3f}" if task.is_regression else str(example.label))
    row = {"index": index, "id": index, "label": label}
    text = ("sentence1", "sentence2") if kind == "diagnostic" else task.text
    row[text[0]] = example.text_a
    if len(text) > 1:
        row[text[1]] = example.text_b
    row[task.label_column] = label
    if task.name == "CoLA":
        row.update(source=f"gen{position % 10:02d}", author_label="" if label != "0" else "*")
    elif task.name == "MRPC":
        row.update({"#1 ID": str(1_000_000 + 2 * position), "#2 ID": str(1_000_001 + 2 * position)})
    elif task.name == "QQP":
        row.update(qid1=str(2 * position + 1), qid2=str(2 * position + 2))
    elif task.name == "STS-B":
        row.update(genre=example.genre or "main-captions", filename="generated", year="2026", old_index=index, source1="none", source2="none")
    elif task.name == "MNLI" and kind != "diagnostic":
        row.update(_mnli_extras(example, position, label))
    return row


def _mnli_extras(example, position, label):
    extras = {"promptID": str(10_000 + position), "pairID": f"{10_000 + position}{(label or 'x')[0]}",
              "genre": example.genre or "fiction"}  # fmt: skip
    for side, text in (("sentence1", example.text_a), ("sentence2", example.text_b)):
        extras[f"{side}_binary_parse"] = binary_parse(text)
        extras[f"{side}_parse"] = "(ROOT (S " + " ".join(f"(X {word})" for word in text.split()) + "))"
    for number in range(1, 6):
        extras[f"label{number}"] = label
    return extras


def binary_parse(text):
    """A right-branching binary bracketing in MNLI's `*_binary_parse` style.

    >>> binary_parse("all dogs sleep")
    '( all ( dogs sleep ) )'
    """
    words = text.split()
    if len(words) <= 1:
        return " ".join(words)
    tree = f"( {words[-2]} {words[-1]} )"
    for word in reversed(words[:-2]):
        tree = f"( {word} {tree} )"
    return tree


def write_glue(directory, data):
    """Writes `{task: {split: [Example, ...]}}` (as `load_glue` returns) in
    the official layout under `directory`; returns `directory`."""
    for name, splits in data.items():
        task = TASKS[name]
        for split, examples in splits.items():
            if split == "diagnostic":
                path = os.path.join(directory, DIAGNOSTIC_PATHS[0])
            else:
                path = os.path.join(directory, task.name, f"{split}.tsv")
            write_file(path, task, split_kind(split), examples)
    return directory


# -- submissions ----------------------------------------------------------------------


def submission_value(task, prediction):
    """How a prediction is written in a submission: the label string, or
    the STS-B score with 3 decimals.

    >>> submission_value("STS-B", 3.14159), submission_value("RTE", "entailment")
    ('3.142', 'entailment')
    """
    task = TASKS[task] if isinstance(task, str) else task
    if task.is_regression:
        return f"{min(5.0, max(0.0, float(prediction))):.3f}"
    if str(prediction) not in task.labels:
        raise ValueError(f"a {task.name} prediction must be one of {list(task.labels)}; received {prediction!r}.")
    return str(prediction)


def write_submission(directory, evaluation, indices, predictions):
    """Writes the leaderboard file of one evaluation set ("CoLA", ...,
    "MNLI-m", "MNLI-mm", "AX") under `directory`; returns its path."""
    if evaluation not in EVALUATIONS:
        raise ValueError(f"`evaluation` must be one of {list(EVALUATIONS)}; received {evaluation!r}.")
    task, _, _, filename = EVALUATIONS[evaluation]
    indices, predictions = list(indices), list(predictions)
    if len(indices) != len(predictions):
        raise ValueError(f"`indices` ({len(indices)}) and `predictions` ({len(predictions)}) must have the same length.")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, filename)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("index\tprediction\n")
        for index, prediction in zip(indices, predictions):
            handle.write(f"{index}\t{submission_value(task, prediction)}\n")
    return path


def read_submission(path):
    """`(evaluation, [(index, prediction), ...])` of a submission file; the
    prediction is a label string or, for STS-B, a float.

    Raises:
        ValueError: the name is not a leaderboard file name, the header is
            not ``index<TAB>prediction``, or a prediction is not valid.
    """
    names = {out: name for name, (_, _, _, out) in EVALUATIONS.items()}
    filename = os.path.basename(path)
    if filename not in names:
        raise ValueError(f"{path}: a GLUE submission file is named one of {sorted(names)}.")
    evaluation = names[filename]
    task = EVALUATIONS[evaluation][0]
    rows = _rows(path)
    number, header = next(rows, (1, []))
    if header != ["index", "prediction"]:
        raise ValueError(f"{path}, line {number}: expected the header index<TAB>prediction; found {_tabbed(header)}.")
    result = []
    for number, fields in rows:
        if len(fields) != 2:
            raise ValueError(f"{path}, line {number}: expected index<TAB>prediction; found {len(fields)} columns.")
        result.append((fields[0], _label(fields[1], task, f"{path}, line {number}")))
    return evaluation, result
