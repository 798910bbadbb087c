"""The espeak-ng C library through ctypes; also a worker process (`python _espeak.py`).

espeak-ng keeps internal state between utterances, so the same request gives
slightly different samples depending on what was spoken before. Batches are
therefore synthesised in a fresh worker process (this file run as a script:
it imports only ctypes and NumPy), which makes the output a pure function of
the request list. The script reads a JSON list of `[text, voice, rate, pitch]`
on stdin and writes an `.npz` (`samples` int16 concatenated, `lengths`) to
the path given as its argument.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys
import threading

import numpy as np

INSTALL_HINT = (
    "espeak-ng is needed to synthesise speech: `pip install keras_seq[audio]` "
    "(installs the espeakng-loader wheel with the library and voices), or "
    "`apt install espeak-ng`."
)


class EspeakNotFoundError(ImportError):
    """espeak-ng (library or voice data) is not installed."""


class _Espeak:
    """The espeak-ng C library in synchronous mode with a sample-collecting callback."""

    _instance = None
    _lock = threading.Lock()

    AUDIO_OUTPUT_SYNCHRONOUS = 2
    POS_CHARACTER = 1
    CHARS_UTF8 = 1
    RATE, VOLUME, PITCH = 1, 2, 3

    def __init__(self):
        library, data = _locate_espeak()
        try:
            self.lib = ctypes.CDLL(library)
        except OSError as error:
            raise EspeakNotFoundError(f"{INSTALL_HINT} (loading {library} failed: {error})") from error
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.sample_rate = lib.espeak_Initialize(
            self.AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode() if data else None, 0
        )
        if self.sample_rate <= 0:
            raise EspeakNotFoundError(f"{INSTALL_HINT} (espeak_Initialize failed with data path {data!r})")
        self._chunks = []
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        self._callback = callback_type(self._collect)  # keep a reference: C holds it
        lib.espeak_SetSynthCallback(self._callback)
        self.version = _espeak_version(lib)
        try:
            self._libc = ctypes.CDLL(None)
            self._libc.srand, self._libc.srandom  # noqa: B018
        except (OSError, AttributeError):
            self._libc = None

    def _collect(self, samples, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def _reseed(self):
        # Breathy variants draw noise from espeak's generator and from libc's.
        if hasattr(self.lib, "espeak_ng_SetRandSeed"):
            self.lib.espeak_ng_SetRandSeed(ctypes.c_long(1))
        if self._libc is not None:
            self._libc.srand(1)
            self._libc.srandom(1)

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def synthesize(self, text, name, rate, pitch):
        with self._lock:
            if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {name!r}; try e.g. 'en-us+f3'.")
            self.lib.espeak_SetParameter(self.RATE, int(rate), 0)
            self.lib.espeak_SetParameter(self.PITCH, int(pitch), 0)
            self._chunks = []
            self._reseed()
            data = text.encode("utf-8")
            self.lib.espeak_Synth(data, len(data) + 1, 0, self.POS_CHARACTER, 0, self.CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, "int16")


def _espeak_version(lib):
    try:
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        return lib.espeak_Info(None).decode()
    except (AttributeError, UnicodeDecodeError):
        return "unknown"


def _locate_espeak():
    """`(library path, data path or None)` from espeakng-loader, else the system."""
    try:
        import espeakng_loader
    except ImportError:
        espeakng_loader = None
    if espeakng_loader is not None:
        library = espeakng_loader.get_library_path()
        try:
            data = espeakng_loader.get_data_path()
        except RuntimeError:
            data = None
        if os.path.exists(library):
            return library, data
    library = ctypes.util.find_library("espeak-ng")
    if library is None:
        raise EspeakNotFoundError(INSTALL_HINT)
    return library, None




def _main(argv):
    requests = json.load(sys.stdin)
    engine = _Espeak.get()
    clips = [engine.synthesize(text, name, rate, pitch) for text, name, rate, pitch in requests]
    lengths = np.array([len(c) for c in clips], "int64")
    samples = np.concatenate(clips) if clips else np.zeros(0, "int16")
    np.savez(argv[1], samples=samples.astype("int16"), lengths=lengths, sample_rate=engine.sample_rate)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
