"""Chunks handed to the bootstrap threads: whole blocks, the whole stream, guided sizes."""

from __future__ import annotations

from mutualaid_outcomes.models._core import counts


def test_guided_chunks_cover_the_stream_in_whole_blocks():
    n = 1726
    block = counts.block_size(n)
    for n_boot in (1, block, 10_000, 12_345):
        plain = counts._chunks(n, n_boot, 600)
        guided = counts._chunks(n, n_boot, 600, guided=True)
        for chunks in (plain, guided):
            starts = [a for a, _ in chunks]
            stops = [b for _, b in chunks]
            assert starts[0] == 0 and stops[-1] == n_boot
            assert starts[1:] == stops[:-1]
            assert all(a % block == 0 for a in starts)
        sizes = [b - a for a, b in guided]
        assert max(sizes) <= max(b - a for a, b in plain)
        # sizes never grow, and the last chunk is a single block (or what is left)
        assert all(x >= y for x, y in zip(sizes[:-1], sizes[1:], strict=True))
        assert sizes[-1] <= block
