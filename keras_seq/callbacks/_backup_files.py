"""The backup directory of `BackupAndRestore` on disk: its file names,
listing, reading every file in full (so a torn backup is detected) and the
durable (fsync) and atomic (rename first) file operations."""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings

import numpy as np

FORMAT_VERSION = 1
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d{10})-(\d{6})$")
WEIGHTS_FILE = "model.weights.h5"
STATE_FILE = "state.npz"
META_FILE = "training_state.json"


def checkpoint_names(directory):
    """Names of complete backups in `directory`, newest first."""
    if not os.path.isdir(directory):
        return []
    found = [(m.group(1), m.group(2), name) for name in os.listdir(directory) if (m := CHECKPOINT_NAME.match(name))]
    return [name for *_, name in sorted(found, reverse=True)]


def newest_readable(directory, attempts=5):
    """`(path, training state)` of the newest backup that reads in full, or
    None when there is none. A backup that disappears while it is read was
    rotated away by a trainer still running (a newer one took its place):
    the directory is listed again rather than the backup called unreadable."""
    for _ in range(attempts):
        skipped, vanished = [], False
        names = checkpoint_names(directory)
        for name in names:
            path = os.path.join(directory, name)
            try:
                meta = read_checked(path)
            except (OSError, ValueError, KeyError) as error:
                if not os.path.exists(path):
                    vanished = True
                    continue
                skipped.append(f"{name}: {error}")
                continue
            if skipped:
                warnings.warn(
                    "BackupAndRestore: skipped unreadable backups (" + "; ".join(skipped) + f"); using {name}.",
                    stacklevel=3,
                )
            return path, meta
        if not vanished:
            break
    if skipped:
        raise ValueError(
            f"BackupAndRestore: no backup in {directory!r} can be read (" + "; ".join(skipped) + "). "
            "Delete the directory to start training from scratch."
        )
    return None


def read_checked(path):
    """The backup's training state, after reading every file in full."""
    import h5py

    with open(os.path.join(path, META_FILE)) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"unknown backup format {meta.get('format')!r}")
    for key in ("epoch", "step", "global_step", "iterator_batches", "seed_states", "metric_variables"):
        if not isinstance(meta.get(key), int) or meta[key] < 0:
            raise ValueError(f"training state has no valid {key!r}")
    with h5py.File(os.path.join(path, WEIGHTS_FILE), "r") as h5:
        h5.visititems(lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None)
    with np.load(os.path.join(path, STATE_FILE)) as arrays:
        for key in arrays.files:
            arrays[key]
    return meta


def remove_atomically(path):
    # Renamed away first, so a process killed while deleting never leaves a
    # half-deleted directory under a backup's name.
    doomed = os.path.join(os.path.dirname(path), f".deleting-{os.path.basename(path)}")
    os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
