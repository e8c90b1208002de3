"""General MIDI program names and families."""

from __future__ import annotations

import pytest

from livearranger.gm import FAMILIES, PROGRAMS, family, program_number


def test_every_program_has_one_distinct_name_and_families_group_eight():
    assert len(PROGRAMS) == 128 and len({p.lower() for p in PROGRAMS}) == 128
    assert len(FAMILIES) == 16
    assert [family(p) for p in (0, 40, 41, 48, 56, 127)] == [
        "Piano", "Strings", "Strings", "Ensemble", "Brass", "Sound Effects"]


def test_a_program_is_a_number_or_a_name_in_any_case():
    assert program_number(0) == 0 and program_number(127) == 127
    assert program_number("violin") == PROGRAMS.index("Violin") == 40
    assert program_number("  Choir AAHS ") == PROGRAMS.index("Choir Aahs")
    assert all(program_number(name) == i for i, name in enumerate(PROGRAMS))


@pytest.mark.parametrize("bad", [-1, 128, True, "Kazoo", 4.0, None])
def test_anything_else_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="program|GM"):
        program_number(bad)
