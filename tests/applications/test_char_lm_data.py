"""char_lm data: census names read from the `names` files, the seeded dinosaur
generator, held-out splits and the text-file loader."""

import os

import names
import pytest

from applications.char_lm.data import (
    DINOSAUR_SUFFIXES,
    census_names,
    generate_dinosaur_names,
    load_text,
    make_dataset,
    split_items,
)


def names_in(filename):
    path = os.path.join(os.path.dirname(names.__file__), filename)
    with open(path) as handle:
        return {line[:15].strip().lower() for line in handle if line.strip()}


def test_census_names_are_the_package_files_first_names():
    female, male = names_in("dist.female.first"), names_in("dist.male.first")
    assert census_names("female") == sorted(female)
    assert census_names("male") == sorted(male)
    everyone = census_names()
    assert everyone == sorted(female | male) and len(everyone) == 5163
    assert {"mary", "james", "patricia"} <= set(everyone)
    assert all(n.isalpha() and n.islower() for n in everyone)
    with pytest.raises(ValueError, match="`sex`"):
        census_names("other")


def test_dinosaur_generator_is_deterministic_and_distinct():
    a = generate_dinosaur_names(500, seed=3)
    assert a == generate_dinosaur_names(500, seed=3)
    assert a != generate_dinosaur_names(500, seed=4)
    assert len(set(a)) == 500
    assert all(n.isascii() and n.isalpha() and n.islower() for n in a)
    assert all(n.endswith(DINOSAUR_SUFFIXES) for n in a)
    assert generate_dinosaur_names(0) == []
    with pytest.raises(ValueError, match="`n`"):
        generate_dinosaur_names(-1)


@pytest.mark.parametrize("source", ["names", "dinosaurs"])
def test_splits_hold_out_distinct_items(source):
    train, test = make_dataset(source, seed=5, n=2000)
    assert (train, test) == make_dataset(source, seed=5, n=2000)
    assert not set(train) & set(test)
    assert len(set(train)) == len(train) and len(set(test)) == len(test)
    everything = census_names() if source == "names" else generate_dinosaur_names(2000, seed=5)
    assert set(train) | set(test) == set(everything)
    assert abs(len(test) / len(everything) - 0.1) < 0.01
    assert make_dataset(source, seed=6, n=2000)[1] != test


def test_split_items_checks_arguments():
    train, test = split_items(["x", "y", "x", "z"], test_fraction=0.5, seed=0)
    assert sorted(train + test) == ["x", "y", "z"] and not set(train) & set(test)
    with pytest.raises(ValueError, match="`test_fraction`"):
        split_items(["a", "b"], test_fraction=1.5)
    with pytest.raises(ValueError, match="`items`"):
        split_items(["a", "a"])
    with pytest.raises(ValueError, match="`source`"):
        make_dataset("planets")


def test_load_text_lines_and_raw(tmp_path):
    path = tmp_path / "items.txt"
    path.write_text("Aachenosaurus\n\n  Aardonyx \nAbelisaurus\n", encoding="utf-8")
    assert load_text(path) == ["Aachenosaurus", "Aardonyx", "Abelisaurus"]
    raw = tmp_path / "raw.txt"
    raw.write_text("The cat sat.\n\nOn the   mat, happily.\n", encoding="utf-8")
    pieces = load_text(raw, mode="raw", chunk_length=10)
    assert "".join(pieces) == "The cat sat. On the mat, happily."
    assert [len(p) for p in pieces] == [10, 10, 10, 3]
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no text"):
        load_text(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match="`mode`"):
        load_text(path, mode="words")
    with pytest.raises(ValueError, match="`chunk_length`"):
        load_text(path, mode="raw", chunk_length=0)
