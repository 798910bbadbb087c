"""Jazz improvisation with an LSTM over chord-relative note tokens (deepjazz).

Solos generated over ii-V-I and 12-bar blues progressions (or Bach chorales
from music21's corpus, or MIDI/MusicXML files) become tokens of role, interval
above the chord root, octave and duration; an LSTM learns them and improvises
new lines over a chord progression, written out as MIDI. See
`applications.jazz.data`.
"""
