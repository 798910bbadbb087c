"""Jazz data: the lick generator, held-out keys, tokens, chord naming, MIDI and MusicXML."""

import mido
import music21
import numpy as np
import pytest

from applications.jazz import data


def test_generator_is_deterministic_for_a_seed():
    assert data.generate_solos(5, seed=2) == data.generate_solos(5, seed=2)
    assert data.generate_solos(5, seed=2) != data.generate_solos(5, seed=3)


def test_splits_hold_out_keys():
    train, test = data.make_dataset(150, 40, seed=0)
    train_keys = {data.key_of(p) for p in train}
    test_keys = {data.key_of(p) for p in test}
    assert test_keys == set(data.HELD_OUT_KEYS)
    assert train_keys == set(range(12)) - set(data.HELD_OUT_KEYS)
    # Every chord of a test solo is built on its held-out key, so no training
    # solo shares its absolute chords.
    assert not {p.chords for p in train} & {p.chords for p in test}


def test_progressions_are_ii_v_i_and_twelve_bar_blues():
    for piece in data.generate_solos(30, seed=1, split="all"):
        key = data.key_of(piece)
        roots = [(r - key) % 12 for r, _, _ in piece.chords]
        qualities = [q for _, q, _ in piece.chords]
        if len(piece.chords) == 3:
            assert roots == [2, 7, 0] and qualities == ["m7", "7", "maj7"]
        else:
            assert roots == [0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7] and set(qualities) == {"7"}
        assert sum(d for _, d in piece.notes) == sum(d for _, _, d in piece.chords)


def test_swing_rhythm_and_approach_tones_resolve_to_chord_tones():
    pieces = data.generate_solos(200, seed=4)
    durations = [d for p in pieces for pitch, d in p.notes if pitch is not None]
    assert durations.count(8) > 0.2 * len(durations) and durations.count(4) > 0.2 * len(durations)
    approaches = 0
    for piece in pieces:
        notes = [(pitch, root, quality) for _, pitch, _, root, quality in data._timeline(piece) if pitch]
        labels = data.roles(piece)
        assert set(labels) <= set("CSA")  # the generator plays nothing else
        for i, label in enumerate(labels):
            if label == "A":
                approaches += 1
                pitch, root, quality = notes[i]
                following, next_root, next_quality = notes[i + 1]
                assert abs(following - pitch) == 1
                assert (following - next_root) % 12 in data.QUALITIES[next_quality]
                assert (pitch - root) % 12 not in data.SCALES[quality]
    assert approaches > 50
    assert np.mean([data.harmonic_share(p) for p in pieces]) > 0.9


def test_tokens_round_trip_and_are_the_same_in_every_key():
    checked = 0
    for piece in data.generate_solos(40, seed=6, split="all"):
        tokens = data.tokenize(piece)
        assert data.detokenize(tokens, piece.chords) == piece
        # Transposing by a semitone changes no token when no chord root
        # crosses from B to C (the octave digit counts from the root's C).
        shift = -1 if max(p for p, _ in piece.notes if p) > 80 else 1
        if any(not 0 <= r + shift <= 11 for r, _, _ in piece.chords):
            continue
        moved = data.Piece(
            [(None if p is None else p + shift, d) for p, d in piece.notes],
            [(r + shift, q, d) for r, q, d in piece.chords],
        )
        assert data.tokenize(moved) == tokens
        checked += 1
    assert checked > 10


def test_identify_chord_agrees_with_music21():
    cases = [["C4", "E4", "G4", "B4"], ["D4", "F4", "A4", "C5"], ["G3", "B3", "D4", "F4"],
             ["A3", "C4", "E4"], ["B3", "D4", "F4"], ["F#3", "A#3", "C#4", "E4"], ["E4", "G4", "B4"]]
    names = {"major-seventh": "maj7", "minor-seventh": "m7", "dominant-seventh": "7",
             "major": "maj", "minor": "m", "diminished": "dim"}
    for pitches in cases:
        chord = music21.chord.Chord(pitches)
        root, quality = data.identify_chord({p.midi for p in chord.pitches})
        assert root == chord.root().pitchClass
        kind = chord.commonName.replace(" triad", "").replace(" chord", "").replace(" ", "-").lower()
        assert quality == names[kind], (pitches, kind)


def test_midi_round_trip_is_exact(tmp_path):
    for i, piece in enumerate(data.generate_solos(25, seed=8, split="all")):
        path = tmp_path / f"solo{i}.mid"
        data.write_midi(piece, str(path))
        assert data.load_midi(str(path)) == piece
    # The file itself is what it claims: melody notes on channel 0 at 40 ticks per unit.
    midi = mido.MidiFile(str(path))
    ons = [m for m in midi.tracks[1] if m.type == "note_on"]
    assert [m.note for m in ons] == [p for p, _ in piece.notes if p is not None]
    assert {m.channel for m in ons} == {0} and midi.ticks_per_beat == 480


def test_midi_loader_reads_a_file_written_with_mido(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    melody, chords = mido.MidiTrack(), mido.MidiTrack()
    # C major scale in eighths (48 ticks) after a quarter rest, over C then G7.
    wait = 96
    for pitch in (72, 74, 76, 77, 79, 81):
        melody.append(mido.Message("note_on", note=pitch, velocity=80, time=wait))
        melody.append(mido.Message("note_off", note=pitch, velocity=0, time=48))
        wait = 0
    for notes in ((48, 52, 55), (43, 47, 50, 53)):
        for n in notes:
            chords.append(mido.Message("note_on", note=n, velocity=50, time=0))
        for k, n in enumerate(notes):
            chords.append(mido.Message("note_off", note=n, velocity=0, time=384 if k == 0 else 0))
    midi.tracks += [melody, chords]
    path = tmp_path / "scale.mid"
    midi.save(path)
    piece = data.load_midi(str(path))
    assert piece.notes == ((None, 12), (72, 6), (74, 6), (76, 6), (77, 6), (79, 6), (81, 6), (None, 48))
    assert piece.chords == ((0, "maj", 48), (7, "7", 48))


def test_musicxml_loader_reads_a_file_written_with_music21(tmp_path):
    score = music21.stream.Score()
    top, bottom = music21.stream.Part(), music21.stream.Part()
    for name, length in (("E5", 1.0), ("D5", 0.5), ("C5", 0.5), ("D5", 2.0), ("B4", 4.0)):
        top.append(music21.note.Note(name, quarterLength=length))
    bottom.append(music21.chord.Chord(["C3", "E3", "G3"], quarterLength=4.0))
    bottom.append(music21.chord.Chord(["G2", "B2", "D3", "F3"], quarterLength=4.0))
    score.insert(0, top)
    score.insert(0, bottom)
    path = score.write("musicxml", fp=str(tmp_path / "line.musicxml"))
    piece = data.load_musicxml(str(path))
    assert piece.notes == ((76, 12), (74, 6), (72, 6), (74, 24), (71, 48))
    assert piece.chords == ((0, "maj", 48), (7, "7", 48))
    assert data.load_pieces(str(tmp_path)) == [piece]


def test_bach_chorales_come_from_the_bundled_corpus():
    pieces = data.bach_chorales(count=2)
    assert len(pieces) == 2
    for piece in pieces:
        tokens = data.tokenize(piece)
        assert data.detokenize(tokens, piece.chords) == piece
        assert any(t.startswith("chord:") for t in tokens)
        assert data.harmonic_share(piece) > 0.7


def test_bad_input_raises_value_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.generate_solos(2, split="valid")
    with pytest.raises(ValueError, match="progressions"):
        data.generate_solos(2, progressions=("rhythm changes",))
    with pytest.raises(ValueError, match="span"):
        data.Piece([(60, 12)], [(0, "maj", 48)])
    with pytest.raises(ValueError, match="quality"):
        data.Piece([(60, 48)], [(0, "add9", 48)])
    with pytest.raises(ValueError, match="`path`"):
        data.load_pieces(str(tmp_path / "notes.txt"))
