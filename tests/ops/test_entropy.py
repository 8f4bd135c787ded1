"""Range coding with integer tables: exact round trips, and sizes that follow the tables."""

import pytest
import torch

from kinema.ops.entropy import SymbolTables, decoder_for, encode_all


def _tables(channels=3, half=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, 2000, (channels, 2 * half + 1), generator=g)


def test_symbols_round_trip_exactly_across_several_latents_in_one_packet():
    g = torch.Generator().manual_seed(1)
    first, second = SymbolTables(_tables(3, 7)), SymbolTables(_tables(2, 3, seed=1))
    a = torch.randint(-7, 8, (3, 5, 9), generator=g).float()
    b = torch.randint(-3, 4, (2, 4, 4), generator=g).float()
    payload = encode_all([(first, a), (second, b)])
    decoder = decoder_for(payload)
    assert torch.equal(first.decode(decoder, 5, 9), a)
    assert torch.equal(second.decode(decoder, 4, 4), b)


def test_the_size_is_the_tables_ideal_code_length():
    counts = torch.tensor([[1, 1, 60000, 1, 1], [13107] * 5])
    tables = SymbolTables(counts)
    g = torch.Generator().manual_seed(2)
    for symbols in (torch.zeros(2, 64, 64), torch.randint(-2, 3, (2, 64, 64), generator=g).float()):
        probs = counts.double() / counts.sum(1, keepdim=True)
        ideal = -torch.log2(torch.gather(probs, 1, (symbols.long() + 2).reshape(2, -1))).sum().item()
        bits = 8 * len(encode_all([(tables, symbols)]))
        assert ideal <= bits <= 1.01 * ideal + 64


def test_symbols_outside_the_range_and_bad_tables_are_refused():
    tables = SymbolTables(_tables(1, 2))
    with pytest.raises(ValueError, match="outside"):
        encode_all([(tables, torch.full((1, 2, 2), 3.0))])
    with pytest.raises(ValueError, match="at least 1"):
        SymbolTables(torch.zeros(2, 5, dtype=torch.int64))
    with pytest.raises(ValueError, match="whole 32-bit words"):
        decoder_for(b"abc")
