from __future__ import annotations

import numpy as np

from livearranger.lab.collections import asap_bach, load_collection
from tests.lab.collections.make import write_text

MATCH = """info(matchFileVersion,1.0.0).
info(midiClockUnits,480).
info(midiClockRate,500000).
scoreprop(timeSignature,6/8,1:1,0,0.0000).
snote(n2-1,[C,n],4,1:1,1/8,1/8,0.5000,1.0000,[v2,staff1])-note(n0,60,480,1294,36,0,0).
snote(n3-1,[E,n],5,1:1,0,1/4,0.0000,2.0000,[v1,staff1,trill-mark])-note(n1,76,470,1500,50,0,0).
snote(n4-1,[C,n],3,1:1,0,1/4,0.0000,2.0000,[v5,staff2])-note(n2,48,500,1900,44,0,0).
insertion-note(n3,61,700,800,20,0,0).
snote(n5-1,[D,n],4,1:2,0,1/8,1.0000,2.0000,[v2,staff1])-note(n4,62,960,1400,40,0,0).
snote(n6-1,[B,n],3,1:2,0,1/8,1.0000,2.0000,[v5,staff2])-deletion.
snote(n7-1,[G,n],3,1:2,0,1/8,1.0000,2.0000,[v2,staff2])-note(n5,55,970,1400,41,0,0).
sustain(100,64).
"""


def test_performed_notes_labelled_with_their_score_voice(tmp_path):
    write_text(tmp_path / "Bach" / "Fugue" / "bwv_846" / "Shi05M.match", MATCH)
    [piece] = load_collection("asap-bach", tmp_path, "all")
    assert piece.name == "Bach/Fugue/bwv_846/Shi05M.match"
    assert piece.part_names == ("voice 1", "voice 2", "voice 3")
    got = {int(p): int(k) for p, k in zip(piece.pitch, piece.part, strict=True)}
    # voice 2 crossing to the lower staff (55) is still voice 2; the insertion (61) is out
    assert got == {76: 0, 60: 1, 62: 1, 55: 1, 48: 2}
    # 480 ticks a quarter at 500000 us a quarter: a tick is 1/960 s
    assert np.allclose(piece.onset, [470 / 960, 480 / 960, 500 / 960, 960 / 960, 970 / 960])
    assert piece.velocity.tolist() == [50, 36, 44, 40, 41]
    # beats of 6/8 are eighths: the score's onset in quarter notes
    assert np.allclose(piece.beat, [0.0, 0.25, 0.0, 0.5, 0.5])
    assert np.isclose(piece.offset[piece.pitch == 48][0], 1900 / 960)


def test_the_prelude_and_fugue_of_one_bwv_are_one_work():
    assert asap_bach.work_of("Bach/Fugue/bwv_846/a.match") == \
        asap_bach.work_of("Bach/Prelude/bwv_846/b.match") == "bwv846"
    assert asap_bach.work_of("Bach/Italian_concerto/LeeN07.match") == "bwv971"


def _row(on, pitch, voice, length=1.0):
    return asap_bach.Aligned(on, on + length * 0.5, on, on + length, pitch, 60, voice)


def test_fragments_join_the_silent_voice_nearest_in_pitch():
    rows = []
    for b in range(40):                       # two long lines, an octave and more apart
        rows += [_row(b, 72 + b % 3, "v1"), _row(b, 48 + b % 2, "v5")]
    # a passing voice of two notes, in the bass's range, while the bass rests
    bass_rest = [r for r in rows if not (r.voice == "v5" and 10 <= r.score_onset < 12)]
    rows = bass_rest + [_row(10, 50, "v6"), _row(11, 52, "v6")]
    voices = asap_bach.musical_voices(rows)
    got = {(r.score_onset, r.pitch): v for r, v in zip(rows, voices, strict=True)}
    assert got[(10, 50)] == got[(11, 52)] == 1              # the bass, silent then
    assert got[(0, 72)] == 0 and got[(0, 48)] == 1           # voice 1 is the highest
    assert asap_bach.voice_check(rows, voices) == 0.0


def test_a_fugue_keeps_its_own_number_of_voices():
    assert asap_bach.voice_count("Bach/Fugue/bwv_848/x.match") == 3
    assert asap_bach.voice_count("Bach/Prelude/bwv_848/x.match") is None
    rows = []
    for b in range(30):     # three voices notated as four: the middle changes staff
        rows += [_row(b, 76, "v1"), _row(b, 40, "v5"),
                 _row(b, 60 + b % 2, "v2" if b < 15 else "v6")]
    voices = asap_bach.musical_voices(rows, count=3)
    assert max(voices) == 2 and asap_bach.voice_check(rows, voices) == 0.0
    middle = {v for r, v in zip(rows, voices, strict=True) if r.pitch in (60, 61)}
    assert middle == {1}
    # a notated voice of its own would have made four lines, one a fragment of the other
    assert max(asap_bach.musical_voices(rows)) == 3
