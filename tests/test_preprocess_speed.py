"""The preprocessing's fast paths give exactly what the plain code they replaced gives (same machine,
same numpy: compared bit for bit, as both are the same operations on the same values)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from digitnet.preprocess import PAPER_PERCENTILE, PAPER_TILE_MIN, PAPER_TILES, _show_on_background, _tile_percentiles


@hypothesis_settings(max_examples=60, deadline=None)
@given(height=st.integers(16, 300), width=st.integers(16, 300), seed=st.integers(0, 2**32 - 1),
       levels=st.sampled_from([0, 2, 5]))
def test_tile_percentiles_are_each_tiles_own(height, width, seed, levels):
    rng = np.random.default_rng(seed)
    gray = rng.random((height, width), dtype=np.float32)
    if levels:  # many equal values, as paper is: ties in the partition
        gray = np.round(gray * levels) / levels
    rows, cols = (max(1, min(PAPER_TILES, side // PAPER_TILE_MIN)) for side in (height, width))
    row_edges = np.linspace(0, height, rows + 1).astype(int)
    col_edges = np.linspace(0, width, cols + 1).astype(int)
    one_by_one = np.array([[np.percentile(gray[r0:r1, c0:c1], PAPER_PERCENTILE)
                            for c0, c1 in zip(col_edges[:-1], col_edges[1:])]
                           for r0, r1 in zip(row_edges[:-1], row_edges[1:])], dtype=np.float32)
    assert _tile_percentiles(gray, row_edges, col_edges, PAPER_PERCENTILE).tobytes() == one_by_one.tobytes()


@hypothesis_settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_an_opaque_picture_is_its_own_composite(seed):
    gray = np.random.default_rng(seed).random((40, 30), dtype=np.float32)
    opaque = np.ones_like(gray)
    composite = gray * opaque + np.float32(1.0) * (1 - opaque)  # "over" white, written out
    assert _show_on_background(gray, opaque).tobytes() == composite.tobytes()
