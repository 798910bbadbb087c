"""Jazz lines as tokens: a seeded lick generator, Bach chorales, MIDI and MusicXML.

Music is a melody over chords. Time is counted in units of 1/12 beat
(`UNITS_PER_BEAT`), so swung eighths (8 + 4 units), straight eighths (6),
sixteenths (3) and quarters (12) are all whole numbers. A piece is a
`Piece(notes, chords)`: `notes` are `(pitch, duration)` pairs (MIDI pitch,
or `None` for a rest) and `chords` are `(root_pitch_class, quality,
duration)` triples over the same time span.

Tokens (`tokenize` / `detokenize`, exact inverses):

* a chord change ``"chord:m7+5"``: the quality and the root's motion in
  semitones from the previous chord (0 for the first chord), so the tokens
  do not name the key;
* a note ``"C4.1/8"``: its role against the sounding chord (`role`: ``C``
  chord tone, ``S`` scale tone of the chord's scale, ``A`` approach tone --
  a chromatic note a semitone from the chord tone that follows it, ``X``
  anything else), its interval above the chord root (0-11), its octave
  above `LOW` + the root's pitch class (so only the octave digit can change
  when a piece is transposed), and its duration in units;
* a rest ``"R/12"``.

Data sets:

* `generate_solos`: a seeded lick generator over ii-V-I progressions and
  12-bar blues in all 12 keys with swing rhythms (long-short eighth pairs,
  triplets, quarters, rests) and chromatic approach tones that
  resolve to chord tones. Keys in `HELD_OUT_KEYS` are reserved for the test
  split: training solos never use them.
* `bach_chorales`: soprano lines of chorales from music21's bundled corpus
  (no download), with a chord per beat from the chordified texture.
* `load_midi` / `load_musicxml`: a melody (the highest non-chord track or
  part) and chords (from a track or part whose notes are chords), for any file.

`write_midi` writes a piece as a type-1 MIDI file (melody on channel 0, the
chords held on channel 1) with `mido`; `load_midi` reads it back exactly.

Example:

>>> from applications.jazz.data import generate_solos, tokenize, detokenize
>>> piece = generate_solos(1, seed=0)[0]
>>> tokens = tokenize(piece)
>>> tokens[0]
'chord:7+0'
>>> detokenize(tokens, piece.chords) == piece
True
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from applications import contract

UNITS_PER_BEAT = 12
BEATS_PER_BAR = 4
BAR = UNITS_PER_BEAT * BEATS_PER_BAR
LOW = 48  # the reference register: octave 0 starts at LOW + chord root
MELODY_RANGE = (60, 84)
HELD_OUT_KEYS = (6, 11)  # F# and B: test split only
TICKS_PER_BEAT = 480

QUALITIES = {
    "maj7": (0, 4, 7, 11),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
}
SCALES = {
    "maj7": (0, 2, 4, 5, 7, 9, 11),  # ionian
    "maj": (0, 2, 4, 5, 7, 9, 11),
    "7": (0, 2, 4, 5, 7, 9, 10),  # mixolydian
    "sus4": (0, 2, 4, 5, 7, 9, 10),
    "m7": (0, 2, 3, 5, 7, 9, 10),  # dorian
    "m": (0, 2, 3, 5, 7, 8, 10),  # aeolian
    "m7b5": (0, 1, 3, 5, 6, 8, 10),  # locrian
    "dim": (0, 2, 3, 5, 6, 8, 9, 11),  # whole-half diminished
    "dim7": (0, 2, 3, 5, 6, 8, 9, 11),
    "aug": (0, 2, 4, 6, 8, 10),  # whole tone
}
ROLES = ("C", "S", "A", "X")


@dataclasses.dataclass(frozen=True)
class Piece:
    """A melody `notes` [(pitch | None, units)] over `chords` [(root, quality, units)]."""

    notes: tuple
    chords: tuple

    def __post_init__(self):
        notes = []
        for pitch, duration in self.notes:
            if pitch is None and notes and notes[-1][0] is None:
                notes[-1] = (None, notes[-1][1] + int(duration))  # one rest, however written
            else:
                notes.append((pitch if pitch is None else int(pitch), int(duration)))
        object.__setattr__(self, "notes", tuple(notes))
        object.__setattr__(self, "chords", tuple((int(r) % 12, q, int(d)) for r, q, d in self.chords))
        if sum(d for _, d in self.notes) != sum(d for _, _, d in self.chords):
            raise ValueError("`notes` and `chords` must span the same number of units.")
        for _, quality, _ in self.chords:
            if quality not in QUALITIES:
                raise ValueError(f"chord quality must be one of {sorted(QUALITIES)}; received {quality!r}.")


def role(pitch, root, quality, next_pitch=None, next_root=None, next_quality=None):
    """`"C"`, `"S"`, `"A"` or `"X"` for `pitch` over the chord `root` `quality`.

    An approach tone is outside the chord scale, a semitone away from the
    next note, which is a chord tone of its own chord.

    >>> role(64, 0, "maj7"), role(62, 0, "maj7"), role(66, 7, "7", 67, 0, "maj7"), role(61, 0, "maj7")
    ('C', 'S', 'A', 'X')
    """
    interval = (pitch - root) % 12
    if interval in QUALITIES[quality]:
        return "C"
    if interval in SCALES[quality]:
        return "S"
    if next_pitch is not None and abs(next_pitch - pitch) == 1:
        if (next_pitch - next_root) % 12 in QUALITIES[next_quality]:
            return "A"
    return "X"


def _timeline(piece):
    """Per note: (start, pitch, duration, root, quality) with the chord sounding at its onset."""
    bounds = np.cumsum([0] + [d for _, _, d in piece.chords])
    events, start = [], 0
    for pitch, duration in piece.notes:
        index = int(np.searchsorted(bounds, start, side="right") - 1)
        root, quality, _ = piece.chords[min(index, len(piece.chords) - 1)]
        events.append((start, pitch, duration, root, quality))
        start += duration
    return events


def roles(piece):
    """The role of every sounding note of `piece` (rests skipped)."""
    events = [e for e in _timeline(piece) if e[1] is not None]
    result = []
    for i, (_, pitch, _, root, quality) in enumerate(events):
        following = events[i + 1] if i + 1 < len(events) else None
        result.append(
            role(pitch, root, quality, *(following[1], following[3], following[4]) if following else ())
        )
    return result


def harmonic_share(piece):
    """Share of sounding notes that are chord or scale tones."""
    labels = roles(piece)
    return sum(label in "CS" for label in labels) / max(1, len(labels))


def tokenize(piece):
    """The token list of a piece (see the module docstring)."""
    labels = iter(roles(piece))
    events = _timeline(piece)
    bounds = np.cumsum([0] + [d for _, _, d in piece.chords])
    tokens, chord_index, previous_root = [], 0, None
    for start, pitch, duration, root, _ in events:
        while chord_index < len(piece.chords) and bounds[chord_index] <= start:
            r, q, _ = piece.chords[chord_index]
            motion = 0 if previous_root is None else (r - previous_root) % 12
            tokens.append(f"chord:{q}+{motion}")
            previous_root, chord_index = r, chord_index + 1
        if pitch is None:
            tokens.append(f"R/{duration}")
        else:
            relative = pitch - LOW - root
            if relative < 0:
                raise ValueError(f"pitch {pitch} is below the token register (MIDI {LOW + root}).")
            tokens.append(f"{next(labels)}{relative % 12}.{relative // 12}/{duration}")
    return tokens


def parse_token(token):
    """`"C4.1/8"` -> `("C", 4, 1, 8)`; `"R/12"` -> `("R", None, None, 12)`;
    `"chord:7+5"` -> `("chord", "7", 5, None)`."""
    if token.startswith("chord:"):
        quality, motion = token[6:].rsplit("+", 1)
        return "chord", quality, int(motion), None
    body, duration = token.rsplit("/", 1)
    if body == "R":
        return "R", None, None, int(duration)
    interval, octave = body[1:].split(".")
    return body[0], int(interval), int(octave), int(duration)


def detokenize(tokens, chords):
    """Tokens over the absolute `chords` back to a `Piece` (chord tokens only
    advance the chord; the roots come from `chords`)."""
    notes, index = [], -1
    for token in tokens:
        kind, a, b, duration = parse_token(token)
        if kind == "chord":
            index += 1
        elif kind == "R":
            notes.append((None, duration))
        else:
            notes.append((LOW + chords[max(index, 0)][0] + a + 12 * b, duration))
    return Piece(notes, chords)


# -- the lick generator -----------------------------------------------------------

RHYTHMS = (  # one bar (48 units) of note/rest durations; negative = rest
    (8, 4, 8, 4, 8, 4, 8, 4),
    (12, 8, 4, 8, 4, 12),
    (8, 4, 8, 4, 24),
    (-12, 8, 4, 8, 4, 8, 4),
    (4, 4, 4, 8, 4, 8, 4, 12),  # a triplet, then swing
    (8, 4, 12, 8, 4, 12),
    (-8, 4, 8, 4, 8, 4, 12),
    (12, 12, 8, 4, 8, 4),
    (8, 4, 8, 4, 8, 4, -12),
)


def ii_v_i(key):
    return [((key + 2) % 12, "m7", BAR), ((key + 7) % 12, "7", BAR), (key, "maj7", 2 * BAR)]


def blues(key):
    degrees = (0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7)
    return [((key + d) % 12, "7", BAR) for d in degrees]


PROGRESSIONS = {"ii-V-I": ii_v_i, "blues": blues}


def _in_range(pitch):
    return MELODY_RANGE[0] <= pitch <= MELODY_RANGE[1]


def _pitches(root, intervals):
    return [p for p in range(MELODY_RANGE[0], MELODY_RANGE[1] + 1) if (p - root) % 12 in intervals]


def _nearest(candidates, pitch):
    return min(candidates, key=lambda p: (abs(p - pitch), p))


def _bar_line(rng, root, quality, pitch, durations, target=None):
    """Pitches for one bar's note durations, starting near `pitch`; when
    `target` (the first chord tone of the next bar) is given, the last note
    may become a chromatic approach to it."""
    chord = _pitches(root, QUALITIES[quality])
    scale = _pitches(root, SCALES[quality])
    direction = 1 if rng.random() < 0.5 else -1
    line, onset = [], 0
    for i, duration in enumerate(durations):
        strong = onset % UNITS_PER_BEAT == 0
        if i == 0 or (strong and rng.random() < 0.7):
            pool = chord
        else:
            pool = scale
        step = [p for p in pool if (p - pitch) * direction > 0]
        if not step or rng.random() < 0.15:
            direction = -direction
            step = [p for p in pool if (p - pitch) * direction > 0] or pool
        ordered = sorted(step, key=lambda p: abs(p - pitch))
        pitch = ordered[0 if rng.random() < 0.75 or len(ordered) == 1 else 1]
        line.append(pitch)
        onset += duration
    if target is not None and len(line) > 1 and rng.random() < 0.35:
        approach = target - 1 if rng.random() < 0.7 else target + 1
        if _in_range(approach) and (approach - root) % 12 not in SCALES[quality]:
            line[-1] = approach
    return line


def generate_solo(progression, rng):
    """One solo over `progression` [(root, quality, units)] as a `Piece`."""
    notes = []
    pitch = int(rng.integers(MELODY_RANGE[0] + 5, MELODY_RANGE[1] - 5))
    bars = []
    for root, quality, duration in progression:
        bars += [(root, quality)] * (duration // BAR)
    rhythms = []
    for _ in bars:
        rhythm = RHYTHMS[int(rng.integers(len(RHYTHMS)))]
        while rhythms and rhythms[-1][-1] < 0 and rhythm[0] < 0:  # no rest across the bar line
            rhythm = RHYTHMS[int(rng.integers(len(RHYTHMS)))]
        rhythms.append(rhythm)
    # The first chord tone of every bar, chosen in advance so approaches can aim at it.
    targets = []
    for root, quality in bars:
        pitch = _nearest(_pitches(root, QUALITIES[quality]), pitch + int(rng.integers(-4, 5)))
        targets.append(pitch)
    for b, ((root, quality), rhythm) in enumerate(zip(bars, rhythms)):
        sounding = [d for d in rhythm if d > 0]
        start = targets[b] if rhythm[0] > 0 else targets[b] + (1 if rng.random() < 0.5 else -2)
        following = targets[b + 1] if b + 1 < len(bars) and rhythms[b + 1][0] > 0 else None
        line = _bar_line(rng, root, quality, start, sounding, following)
        if rhythm[0] > 0:
            line[0] = targets[b]
        line = iter(line)
        for d in rhythm:
            notes.append((None, -d) if d < 0 else (next(line), d))
    return Piece(notes, progression)


def generate_solos(count, seed=0, split="train", progressions=("ii-V-I", "blues")):
    """`count` solos; `split="train"` uses every key but `HELD_OUT_KEYS`,
    `"test"` only those (and another random stream), `"all"` every key."""
    if split not in ("train", "test", "all"):
        raise ValueError(f'`split` must be "train", "test" or "all"; received {split!r}.')
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be a non-negative integer; received {count!r}.")
    for name in progressions:
        if name not in PROGRESSIONS:
            raise ValueError(f"`progressions` must name entries of {sorted(PROGRESSIONS)}; received {name!r}.")
    keys = {
        "train": [k for k in range(12) if k not in HELD_OUT_KEYS],
        "test": list(HELD_OUT_KEYS),
        "all": list(range(12)),
    }[split]
    rng = np.random.default_rng([seed, {"train": 0, "test": 1, "all": 2}[split]])
    solos = []
    for _ in contract.progress(range(count), desc=f"generating {split} solos", unit="solo"):
        key = keys[int(rng.integers(len(keys)))]
        name = progressions[int(rng.integers(len(progressions)))]
        solos.append(generate_solo(PROGRESSIONS[name](key), rng))
    return solos


def key_of(piece):
    """The key of a generated solo: the root of its maj7 chord (ii-V-I) or
    of its first chord (blues)."""
    tonic = [root for root, quality, _ in piece.chords if quality == "maj7"]
    return tonic[0] if tonic else piece.chords[0][0]


def make_dataset(train_examples, test_examples, seed=0):
    """Generated solos: `(train, test)`, the test split in held-out keys."""
    return (
        generate_solos(train_examples, seed=seed, split="train"),
        generate_solos(test_examples, seed=seed + 1000, split="test"),
    )


# -- chord naming -----------------------------------------------------------------


def identify_chord(pitch_classes):
    """`(root, quality)` best matching a set of pitch classes (most template
    tones present, fewest extra tones; ties: the larger template, then the
    lowest root).

    >>> identify_chord({7, 11, 2, 5})
    (7, '7')
    >>> identify_chord({9, 0, 4})
    (9, 'm')
    """
    pcs = {int(p) % 12 for p in pitch_classes}
    if not pcs:
        raise ValueError("`pitch_classes` must not be empty.")
    best = None
    for root in range(12):
        for quality, template in QUALITIES.items():
            tones = {(root + t) % 12 for t in template}
            hits, extra = len(tones & pcs), len(pcs - tones)
            key = (hits - extra - (len(tones) - hits), len(tones) if not extra else 0, -root)
            if root not in pcs:
                continue
            if best is None or key > best[0]:
                best = (key, root, quality)
    return best[1], best[2]


# -- MIDI ----------------------------------------------------------------------


def write_midi(piece, path, tempo_bpm=160):
    """Writes `piece` as a type-1 MIDI file: melody track (channel 0) and a
    chord track (channel 1, each chord held for its duration, voiced above
    MIDI 48)."""
    import mido

    ticks = TICKS_PER_BEAT // UNITS_PER_BEAT
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    melody, comping = mido.MidiTrack(), mido.MidiTrack()
    melody.append(mido.MetaMessage("track_name", name="melody", time=0))
    comping.append(mido.MetaMessage("track_name", name="chords", time=0))
    wait = 0
    for pitch, duration in piece.notes:
        if pitch is None:
            wait += duration * ticks
            continue
        melody.append(mido.Message("note_on", note=pitch, velocity=90, time=wait, channel=0))
        melody.append(mido.Message("note_off", note=pitch, velocity=0, time=duration * ticks, channel=0))
        wait = 0
    for root, quality, duration in piece.chords:
        voicing = [48 + root + t for t in QUALITIES[quality]]
        for p in voicing:
            comping.append(mido.Message("note_on", note=p, velocity=60, time=0, channel=1))
        for i, p in enumerate(voicing):
            comping.append(
                mido.Message("note_off", note=p, velocity=0, time=duration * ticks if i == 0 else 0, channel=1)
            )
    for track in (meta, melody, comping):
        track.append(mido.MetaMessage("end_of_track", time=wait if track is melody else 0))
        midi.tracks.append(track)
    midi.save(path)


def _track_notes(track, ticks_per_unit):
    """[(start_unit, pitch, duration_units)] of a MIDI track's notes."""
    now, active, notes = 0, {}, []
    for message in track:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            active.setdefault(message.note, []).append(now)
        elif message.type in ("note_off", "note_on") and active.get(message.note):
            start = active[message.note].pop(0)
            notes.append((round(start / ticks_per_unit), message.note, round((now - start) / ticks_per_unit)))
    end = round(now / ticks_per_unit)
    return sorted(notes), end


def _melody(notes, end):
    """Monophonic melody with rests from [(start, pitch, duration)]: the
    highest note at each onset, cut at the next onset."""
    onsets = {}
    for start, pitch, duration in notes:
        if duration > 0 and (start not in onsets or pitch > onsets[start][0]):
            onsets[start] = (pitch, duration)
    result, now = [], 0
    starts = sorted(onsets)
    for i, start in enumerate(starts):
        if start > now:
            result.append((None, start - now))
        pitch, duration = onsets[start]
        stop = min(start + duration, starts[i + 1] if i + 1 < len(starts) else end)
        result.append((pitch, stop - start))
        now = stop
    if end > now:
        result.append((None, end - now))
    return result


def _chords(notes, end):
    """Chords from accompaniment notes: one per onset time, named from the
    notes sounding then (before the first onset: the first chord)."""
    if not notes:
        return [(0, "maj", end)]
    boundaries = sorted({s for s, _, _ in notes} | {0})
    chords = []
    for i, start in enumerate(boundaries):
        stop = boundaries[i + 1] if i + 1 < len(boundaries) else end
        sounding = {p for s, p, d in notes if s <= start < s + d}
        if stop <= start:
            continue
        if sounding:
            root, quality = identify_chord(sounding)
        elif chords:
            root, quality = chords[-1][:2]
        else:
            root, quality = 0, "maj"
        chords.append((root, quality, stop - start))  # a re-struck chord stays a new chord
    return chords


def load_midi(path):
    """Reads a MIDI file as a `Piece`: the melody is the highest line of the
    track with the highest mean pitch, the chords come from the other
    tracks (named from their sounding notes at each onset)."""
    import mido

    midi = mido.MidiFile(path)
    ticks_per_unit = midi.ticks_per_beat / UNITS_PER_BEAT
    tracks = [_track_notes(track, ticks_per_unit) for track in midi.tracks]
    end = max(e for _, e in tracks)
    voiced = [t for t, _ in tracks if t]
    if not voiced:
        raise ValueError(f"`path` {path} holds no notes.")
    top = max(range(len(voiced)), key=lambda i: np.mean([p for _, p, _ in voiced[i]]))
    accompaniment = [n for i, t in enumerate(voiced) if i != top for n in t]
    melody = _melody(voiced[top], end)
    return Piece(melody, _chords(sorted(accompaniment) or voiced[top], end))


def _stream_notes(part):
    notes = []
    for element in part.flatten().notes:
        start = round(float(element.offset) * UNITS_PER_BEAT)
        duration = round(float(element.quarterLength) * UNITS_PER_BEAT)
        for pitch in getattr(element, "pitches", ()):
            notes.append((start, int(pitch.midi), duration))
    return sorted(notes)


def load_musicxml(path):
    """Reads a MusicXML file (`.xml`, `.musicxml`, `.mxl`) with music21 as a
    `Piece`: the highest part is the melody, the other parts' sounding notes
    name a chord per beat."""
    import music21

    return _score_piece(music21.converter.parse(path))


def _score_piece(score):
    parts = list(score.parts) or [score]
    part_notes = [_stream_notes(p) for p in parts]
    part_notes = [n for n in part_notes if n]
    if not part_notes:
        raise ValueError("the score holds no notes.")
    end = max(s + d for notes in part_notes for s, _, d in notes)
    end = -(-end // UNITS_PER_BEAT) * UNITS_PER_BEAT
    top = max(range(len(part_notes)), key=lambda i: np.mean([p for _, p, _ in part_notes[i]]))
    rest = [n for i, notes in enumerate(part_notes) if i != top for n in notes] or part_notes[top]
    # One chord per beat: the notes sounding anywhere in the beat.
    beats = []
    for beat in range(0, end, UNITS_PER_BEAT):
        sounding = {p for s, p, d in rest if s < beat + UNITS_PER_BEAT and s + d > beat}
        beats.append((beat, sounding))
    chords = []
    for _, sounding in beats:
        if sounding:
            root, quality = identify_chord(sounding)
        else:
            root, quality = chords[-1][:2] if chords else (0, "maj")
        if chords and chords[-1][:2] == (root, quality):
            chords[-1] = (root, quality, chords[-1][2] + UNITS_PER_BEAT)
        else:
            chords.append((root, quality, UNITS_PER_BEAT))
    return Piece(_melody(part_notes[top], end), chords)


def bach_chorales(count=20):
    """Up to `count` Bach chorales from music21's bundled corpus (offline)."""
    import music21

    pieces = []
    with contract.progress(total=count, desc="parsing Bach chorales", unit="chorale") as bar:
        for path in music21.corpus.getComposer("bach"):
            if len(pieces) >= count:
                break
            try:
                piece = _score_piece(music21.corpus.parse(path))
                tokenize(piece)
            except (ValueError, IndexError):
                continue  # a score with no notes, or a melody below the register
            pieces.append(piece)
            bar.update(1)
    return pieces


def load_pieces(path):
    """A MIDI/MusicXML file, or a directory of them, as a list of `Piece`."""
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        music = [n for n in names if n.lower().endswith((".mid", ".midi", ".xml", ".musicxml", ".mxl"))]
        return [p for name in music for p in load_pieces(os.path.join(path, name))]
    if path.lower().endswith((".mid", ".midi")):
        return [load_midi(path)]
    if path.lower().endswith((".xml", ".musicxml", ".mxl")):
        return [load_musicxml(path)]
    raise ValueError(f"`path` must be a .mid/.midi/.xml/.musicxml/.mxl file or a directory; received {path!r}.")
