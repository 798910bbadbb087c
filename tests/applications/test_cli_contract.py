"""The command line every application shares (`applications.contract`):
help without TensorFlow, help on every option, routine errors as one line
with exit code 2 and no traceback, and a table of bad inputs."""

import importlib
import os
import subprocess
import sys

import keras
import pytest
import tiny_models

from applications import contract

APPLICATIONS = sorted({tiny_models.package(name) for name in tiny_models.BUILDERS})
# As a user's shell would have it: no TF_CPP_MIN_LOG_LEVEL (the command line sets its own).
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"PYTHONPATH": os.pathsep.join(sys.path)}


def run(*argv, cwd=None):
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=600, env=ENV, cwd=cwd)


def imported_modules(importtime_log):
    """Module names from `python -X importtime` output."""
    return {line.rsplit("|", 1)[-1].strip() for line in importtime_log.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("name", APPLICATIONS)
def test_help_answers_without_starting_tensorflow(name):
    for argv in (["--help"], ["train", "--help"], ["predict", "--help"]):
        done = run("-X", "importtime", "-m", f"applications.{name}", *argv)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "usage: python -m applications." in done.stdout
        heavy = {m for m in imported_modules(done.stderr) if m.split(".")[0] in ("tensorflow", "keras", "keras_seq")}
        assert not heavy, f"{name} {argv} imported {sorted(heavy)[:5]}"


@pytest.mark.parametrize("name", APPLICATIONS)
def test_every_option_has_help(name):
    import argparse

    parser = importlib.import_module(f"applications.{name}").APP.parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, subparser in commands.choices.items():
        for action in subparser._actions:
            assert action.help and action.help is not argparse.SUPPRESS, (name, command, action.option_strings)
    assert {"train", "evaluate", "predict"} <= set(commands.choices)


def test_sizes_say_what_they_are_for():
    for name in APPLICATIONS:
        sizes = importlib.import_module(f"applications.{name}").SIZES
        assert set(sizes) == {"fast", "default"}, name
        for size in sizes.values():
            assert len(size.purpose) > 30, (name, size.purpose)
        assert "test suite" in sizes["fast"].purpose, name


def test_strategy_choices_are_the_library_s():
    from keras_seq.distribute import STRATEGIES

    assert contract.STRATEGIES == STRATEGIES


def test_backup_callback_resumes_from_its_directory(tmp_path):
    callback = contract.backup_callback(str(tmp_path / "backup"), every=5)
    assert isinstance(callback, keras.callbacks.BackupAndRestore)
    assert callback.save_freq == 5 and callback.backup_dir == str(tmp_path / "backup")
    assert contract.backup_callback(str(tmp_path / "b")).save_freq == "epoch"


def test_global_batch_is_per_replica_batch_times_replicas():
    sizes = {"fast": contract.Size("what the tests use", epochs=1, batch_size=8)}
    run_ = contract.Training(sizes, "fast", strategy="cpu", batch_size=6)
    assert (run_.per_replica_batch_size, run_.replicas, run_.batch_size) == (6, 1, 6)
    assert run_.epochs == 1
    with pytest.raises(ValueError, match="`epochs` must be a positive integer or None; received 0. "
                                         "`batch_size` must be a positive integer or None; received -1."):
        contract.Training(sizes, "fast", epochs=0, batch_size=-1)
    with pytest.raises(ValueError, match="`backup_every` needs `backup_dir`"):
        contract.Training(sizes, "fast", backup_every=3)
    with pytest.raises(ValueError, match="`size` must be one of \\['fast'\\]; received 'huge'"):
        contract.Training(sizes, "huge")


# -- routine errors in a real process: one line, exit code 2 ----------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_cli")
    made = {}
    for name in ("dates_nmt", "char_lm", "qa", "jazz", "word_vectors", "trigger_word", "dna"):
        directory = root / name
        directory.mkdir()
        made[name] = tiny_models.build(name, str(directory))
    (root / "notes.keras").write_text("not a model")
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.save(root / "other.keras")
    return root, made


def test_a_routine_error_is_one_line_without_traceback_in_a_real_process(tiny, tmp_path):
    root, _ = tiny
    for argv in (
        ["-m", "applications.dates_nmt", "train", "--epochs", "0"],  # before TensorFlow starts
        ["-m", "applications.dates_nmt", "evaluate", "--model", str(root / "notes.keras")],  # after
    ):
        done = run(*argv, cwd=str(tmp_path))
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in done.stderr, done.stderr[-2000:]
    verbose = run("-m", "applications.dates_nmt", "evaluate", "--model", str(root / "notes.keras"), "--verbose",
                  cwd=str(tmp_path))  # fmt: skip
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr


def test_predict_prints_only_its_answers(tiny, tmp_path):
    root, made = tiny
    done = run("-m", "applications.dates_nmt", "predict", "3 May 1979", "--model", made["dates_nmt"].path,
               cwd=str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("3 May 1979\t")
    assert done.stderr.strip() == "", done.stderr[-2000:]  # TensorFlow's start-up notices are filtered


# -- the table of bad inputs ------------------------------------------------------------------


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def bad_inputs(root, made):
    """(application, argv, fragment of the one-line message)."""
    d = made["dates_nmt"].path
    return [
        ("dates_nmt", [], "the following arguments are required: COMMAND"),
        ("dates_nmt", ["frobnicate"], "invalid choice: 'frobnicate'"),
        ("dates_nmt", ["train", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        ("dates_nmt", ["train", "--epochs", "0"], "argument --epochs: must be a positive integer; received '0'"),
        ("dates_nmt", ["train", "--batch-size", "-3"], "argument --batch-size: must be a positive integer"),
        ("dates_nmt", ["train", "--train-examples", "many"], "must be a positive integer; received 'many'"),
        ("dates_nmt", ["train", "--eval-examples", "0"], "argument --eval-examples: must be a positive integer"),
        ("dates_nmt", ["train", "--seed", "-1"], "argument --seed: must be a non-negative integer"),
        ("dates_nmt", ["train", "--size", "huge"], "argument --size: invalid choice: 'huge'"),
        ("dates_nmt", ["train", "--strategy", "gpu"], "argument --strategy: invalid choice: 'gpu'"),
        ("dates_nmt", ["train", "--cpu-devices", "0"], "argument --cpu-devices: must be a positive integer"),
        ("dates_nmt", ["train", "--backup-every", "10"], "--backup-every needs --backup-dir"),
        ("dates_nmt", ["train", "--data", str(root / "missing.tsv")], "does not exist"),
        ("dates_nmt", ["train", "--data", _write(root / "tabless.tsv", "3 May 1979 1979-05-03\n")],
         "line 1: expected 'source<TAB>target'"),
        ("dates_nmt", ["evaluate", "--examples", "0"], "argument --examples: must be a positive integer"),
        ("dates_nmt", ["evaluate", "--model", d, "--data", _write(root / "bad_iso.tsv", "3 May 1979\t1979-13-03\n")],
         "is not a valid ISO date"),
        ("dates_nmt", ["evaluate", "--model", str(root / "notes.keras")], "could not be loaded as a dates_nmt model"),
        ("dates_nmt", ["evaluate", "--model", str(root / "other.keras")], "is not a dates_nmt model"),
        ("dates_nmt", ["predict", ""], "every INPUT must be non-empty"),
        ("dates_nmt", ["predict", "3 May 1979", "--model", str(root / "missing.keras")],
         "--model '" + str(root / "missing.keras") + "' does not exist; train one first"),
        ("dates_nmt", ["predict", "3 May 1979", "--model", d, "--beam-width", "0"], "argument --beam-width"),
        ("transformer_nmt", ["predict", "   "], "every INPUT must be non-empty"),
        ("transformer_nmt", ["evaluate", "--model", d], "is not a transformer_nmt model (a Translator)"),
        ("summarization", ["train", "--data", _write(root / "bad.jsonl", "not json\n")], "bad.jsonl"),
        ("text_to_text", ["train", "--mixing", "random"], "argument --mixing: invalid choice: 'random'"),
        ("text_to_text", ["train", "--data", _write(root / "t2t.tsv", "a\tb\n")], "`data` is not supported"),
        ("char_lm", ["predict", "Jo", "--model", made["char_lm"].path], "never saw: ['J']"),
        ("char_lm", ["train", "--source", "planets"], "argument --source: invalid choice: 'planets'"),
        ("ner", ["evaluate", "--examples", "-1"], "argument --examples: must be a positive integer"),
        ("ner", ["train", "--data", _write(root / "bad.conll", "Ann X-PER\n")], "tags must be O, B-TYPE or I-TYPE"),
        ("captioning", ["predict", str(root / "missing.png")], "input file '" + str(root / "missing.png")),
        ("captioning", ["train", "--decoder", "gru"], "argument --decoder: invalid choice: 'gru'"),
        ("jazz", ["train", "--data", str(root / "no_such_midi")], "does not exist (and is not one of ['bach'])"),
        ("jazz", ["predict", "Hm7 G7", "--model", made["jazz"].path], "does not start with A-G"),
        ("reformer_lm", ["evaluate", "--model", d], "is not a reformer_lm model (a RecallLM)"),
        ("qa", ["train", "--task", "babi3"], "argument --task: invalid choice: 'babi3'"),
        ("qa", ["predict", "no separator", "--model", made["qa"].path], "must be 'story | question'"),
        ("qa", ["evaluate", "--model", made["qa"].path, "--data", _write(root / "bad_babi.txt", "one two\n")],
         "expected '<id> <text>'"),
        ("bert_pretraining", ["predict", " "], "every INPUT must be non-empty"),
        ("bert_pretraining", ["train", "--data", _write(root / "one_doc.txt", "only one sentence\n")],
         "at least two documents"),
        ("sentiment", ["train", "--data", _write(root / "bad.csv", "text,label\nno label here,\n")],
         "line 2 must hold a text and a label"),
        ("sentiment", ["train", "--epochs", "0"], "argument --epochs: must be a positive integer"),
        ("word_vectors", ["predict", "a", "b", "--vectors", made["word_vectors"].path], "one word (neighbours) or three"),
        ("word_vectors", ["evaluate", "--vectors", str(root / "missing.txt")], "--vectors '"),
        ("speech_ctc", ["predict", str(root / "missing.wav")], "does not exist"),
        ("trigger_word", ["evaluate", "--size", "huge"], "argument --size: invalid choice: 'huge'"),
        ("trigger_word", ["predict", _tiny_wav(root), "--model", made["trigger_word"].path], "too short"),
        ("dna", ["train", "--task", "chipseq"], "argument --task: invalid choice: 'chipseq'"),
        ("dna", ["predict", "ACGTXACGTACGTACGT", "--model", made["dna"].path], "neither a FASTA file nor a DNA sequence"),
        ("dna", ["predict", "ACGT", "--model", made["dna"].path], "at least 15 bases"),
        ("dna", ["train", "--data", _write(root / "unlabelled.fa", ">x\nACGT\n")], "holds no labels"),
        ("dna", ["train", "--data", _write(root / "peaks.bed", "chr1\t1\t30\n")], "give the genome FASTA with --genome"),
        ("dna", ["evaluate", "--model", d], "is not a dna model (a RegulatoryNet)"),
        ("video_activity", ["train", "--model", "cnn"], "argument --model: invalid choice: 'cnn'"),
        ("video_activity", ["train", "--data", _one_class_folder(root)], "at least two class sub-folders"),
        ("video_activity", ["evaluate", "--model", d], "is not a video_activity model"),
    ]


def _tiny_wav(root):
    import numpy as np

    from applications._speech import write_wav

    path = root / "tiny.wav"
    write_wav(path, np.zeros(800, "float32"), 16_000)
    return str(path)


def _one_class_folder(root):
    (root / "videos" / "waving").mkdir(parents=True, exist_ok=True)
    (root / "videos" / "waving" / "a.avi").write_bytes(b"one class is not enough")
    return str(root / "videos")


def test_bad_inputs_give_one_line_and_exit_code_2(tiny, capsys, monkeypatch):
    root, made = tiny
    monkeypatch.chdir(root)  # `--model`/`--output` defaults are relative to the working directory
    table = bad_inputs(root, made)
    assert len(table) >= 45
    for name, argv, fragment in table:
        main = importlib.import_module(f"applications.{name}").APP.main
        code = main(argv)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, (name, argv, captured.err[-1000:])
        assert len(lines) == 1 and fragment in lines[0], (name, argv, captured.err[-1000:])
        assert lines[0].startswith(f"python -m applications.{name}")
        assert "Traceback" not in captured.err


def test_epoch_checkpoint_is_replaced_atomically(tmp_path):
    """`checkpoint.keras` is the last finished epoch's model; a crash while
    saving the next one leaves it intact and no partial file behind."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    path = tmp_path / "logs" / "checkpoint.keras"
    callback = contract.LatestModel(path)
    x, y = keras.random.normal((8, 3), seed=1), keras.random.normal((8, 2), seed=2)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    saved = keras.saving.load_model(path).get_weights()
    for a, b in zip(saved, model.get_weights(), strict=True):
        assert (a == b).all()

    class CrashWhileSaving(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            original = model.save

            def save(target, *args, **kwargs):
                original(target, *args, **kwargs)
                with open(target, "r+b") as f:  # the write is cut short: a truncated file
                    f.truncate(100)
                raise OSError("disk full")

            model.save = save

    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[CrashWhileSaving(), callback])
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.keras"]
    for a, b in zip(keras.saving.load_model(path).get_weights(), saved, strict=True):
        assert (a == b).all()
