"""The key/value ring: writes wrap around W slots, and mark/rewind undoes them exactly."""

from __future__ import annotations

import numpy as np

from livearranger.arrangers.kv_ring import KVRing

SHAPE = (2, 2, 1, 4, 3)             # layers, k/v, heads, W slots, d_head


def _note(value: float) -> np.ndarray:
    return np.full((2, 2, 1, 3), value, dtype=np.float32)


def _slots(ring: KVRing) -> list[float]:
    return [float(ring.cache[0, 0, 0, s, 0]) if ring.valid[s] else -1.0
            for s in range(ring.window)]


def test_writes_fill_the_slots_in_turn_and_wrap():
    ring = KVRing(SHAPE)
    for v in range(1, 7):
        ring.write(_note(v))
    assert _slots(ring) == [5.0, 6.0, 3.0, 4.0] and int(ring.pos[0]) == 2
    ring.reset()
    assert _slots(ring) == [-1.0] * 4 and int(ring.pos[0]) == 0


def test_rewind_takes_back_every_write_since_the_mark_even_across_the_wrap():
    ring = KVRing(SHAPE, undo=3)
    for v in range(1, 4):
        ring.write(_note(v))
    cache, valid, pos = ring.cache.copy(), ring.valid.copy(), int(ring.pos[0])
    ring.mark()
    for v in (10, 11, 12):                    # slot 3, then slots 0 and 1 again
        ring.write(_note(v))
    assert _slots(ring) == [11.0, 12.0, 3.0, 10.0]
    assert ring.rewind()
    assert np.array_equal(ring.cache, cache) and np.array_equal(ring.valid, valid)
    assert int(ring.pos[0]) == pos
    assert not ring.rewind()                  # one rewind per mark


def test_more_writes_than_it_can_undo_forget_the_mark():
    ring = KVRing(SHAPE, undo=2)
    ring.mark()
    for v in (1, 2, 3):
        ring.write(_note(v))
    assert not ring.rewind()
    assert _slots(ring) == [1.0, 2.0, 3.0, -1.0]


def test_a_rewind_longer_than_the_ring_gives_back_what_was_there_before_the_mark():
    ring = KVRing(SHAPE, undo=8)
    for v in range(1, 4):
        ring.write(_note(v))
    cache, valid = ring.cache.copy(), ring.valid.copy()
    ring.mark()
    for v in range(10, 16):                  # six writes into four slots: two twice
        ring.write(_note(v))
    assert ring.rewind()
    assert np.array_equal(ring.cache, cache) and np.array_equal(ring.valid, valid)
