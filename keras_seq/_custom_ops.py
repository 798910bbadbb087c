"""keras_seq's TensorFlow custom ops: C++ CPU kernels compiled on first use.

A kernel's source ships with the package (``*.cc`` beside the Python module
that uses it). `load_op_library` compiles it once per machine against the
installed TensorFlow's headers (`tf.sysconfig`) with the C++ compiler named
by ``$CXX`` (default ``g++``), caches the shared library under
``$KERAS_SEQ_CACHE/ops`` (default ``~/.cache/keras_seq/ops``) and loads it with
`tf.load_op_library`. The cached file's name carries a hash of the source, the
TensorFlow version, the flags, the compiler and the CPU's feature flags
(kernels are built with ``-march=native``), so a change to any of them builds
a new library. Concurrent builders (pytest-xdist workers, several processes)
wait on a file lock instead of compiling twice.

Example:

>>> from keras_seq._custom_ops import CustomOpBuildError, build_op_library
>>> build_op_library("kernel.cc", compiler="no-such-compiler")
Traceback (most recent call last):
...
keras_seq._custom_ops.CustomOpBuildError: cannot build kernel.cc: the C++ compiler `no-such-compiler` was not found (set $CXX to one, e.g. g++ or clang++).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading

from keras_seq._cache import cache_dir

_FLAGS = ("-shared", "-fPIC", "-O3", "-march=native", "-fopenmp-simd", "-w")


def _lock_exclusively(handle) -> None:
    """Block until this process holds an exclusive lock on the open file.

    `fcntl` is POSIX-only, so it is imported here rather than with the module
    (`import keras_seq` must work on every OS). Without it, concurrent builders
    both compile; each writes its own partial file and renames it atomically,
    so the result is still one complete library.
    """
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(handle, fcntl.LOCK_EX)


class CustomOpBuildError(RuntimeError):
    """A custom op's library could not be compiled (no compiler, or the
    compiler failed); the message says which and shows its output."""


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith(("flags", "Features")):
                    return line.strip()
    except OSError:
        pass
    import platform

    return platform.machine() + platform.processor()


def _machine_flags():
    """Extra flags for this CPU: on CPUs with AVX512-FP16 (e.g. Sapphire
    Rapids) `-march=native` enables it, and TensorFlow's bundled Eigen
    (PacketMathFP16.h) then fails to compile under gcc 12; the kernels use no
    float16, so it is turned off."""
    return ("-mno-avx512fp16",) if "avx512_fp16" in _cpu_flags().split() else ()


def build_op_library(source, compiler=None, directory=None):
    """Compiles the kernel `source` (a ``.cc`` path) into a shared library
    unless an up-to-date one is cached, and returns the library's path.

    Raises `CustomOpBuildError` when the compiler is missing or fails."""
    compiler = compiler or os.environ.get("CXX") or "g++"
    executable = shutil.which(compiler)
    name = os.path.basename(source)
    if executable is None:
        raise CustomOpBuildError(
            f"cannot build {name}: the C++ compiler `{compiler}` was not found "
            "(set $CXX to one, e.g. g++ or clang++)."
        )
    import tensorflow as tf

    flags = [*_FLAGS, *_machine_flags(), *tf.sysconfig.get_compile_flags()]
    link = tf.sysconfig.get_link_flags()
    with open(source, "rb") as handle:
        text = handle.read()
    key = hashlib.sha256(
        b"\0".join([text, tf.__version__.encode(), repr((flags, link, executable)).encode(), _cpu_flags().encode()])
    ).hexdigest()[:16]
    directory = directory or cache_dir("ops")
    path = os.path.join(directory, f"{os.path.splitext(name)[0]}-{key}.so")
    if os.path.exists(path):
        return path
    os.makedirs(directory, exist_ok=True)
    with open(path + ".lock", "w") as lock:
        _lock_exclusively(lock)  # another process may be building it
        if os.path.exists(path):
            return path
        partial = f"{path}.{os.getpid()}.partial"
        command = [executable, *flags, source, "-o", partial, *link]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()
            raise CustomOpBuildError(
                f"cannot build {name}: `{compiler}` exited with status {result.returncode}.\n"
                f"command: {' '.join(command)}\n" + "\n".join(output[-20:])
            )
        os.replace(partial, path)
    return path


_LIBRARIES = {}
_LOCK = threading.Lock()


def load_op_library(source):
    """The ops of the kernel `source`, built if needed (`build_op_library`)
    and loaded once per process with `tf.load_op_library`. A library that
    builds but does not load (e.g. an undefined symbol) raises
    `CustomOpBuildError` too. A failure is remembered: later calls raise the
    same error at once."""
    source = os.path.abspath(source)
    with _LOCK:
        if source not in _LIBRARIES:
            import tensorflow as tf

            try:
                path = build_op_library(source)
                try:
                    _LIBRARIES[source] = tf.load_op_library(path)
                except tf.errors.OpError as error:
                    raise CustomOpBuildError(f"cannot load {path}: {error.message}") from error
            except CustomOpBuildError as error:
                _LIBRARIES[source] = error
        library = _LIBRARIES[source]
    if isinstance(library, CustomOpBuildError):
        raise library
    return library
