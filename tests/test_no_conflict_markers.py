"""No tracked file may carry a merge-conflict marker (one landed in README once)."""

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def tracked_text_files():
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        path = ROOT / name.decode()
        if path.suffix in {".py", ".md", ".cfg", ".toml", ".txt", ".ipynb", ".sh"} or (
            path.name in {"Makefile", "run"}
        ):
            yield path


def test_marker_pattern_finds_a_conflict():
    sample = "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> main\n"
    assert len(MARKER.findall(sample)) == 3
    assert not MARKER.findall("a ======= b\n=== title\n")


def test_no_tracked_file_has_conflict_markers():
    files = list(tracked_text_files())
    assert len(files) > 100
    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in files
        if path.exists()
        for text in [path.read_text(errors="replace")]
        for match in MARKER.finditer(text)
    ]
    assert not offenders, f"merge-conflict markers in {offenders}"
