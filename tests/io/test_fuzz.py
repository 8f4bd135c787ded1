"""A short, seeded fuzzing pass over every reader (the long one: ``python -m benchmarks.fuzz``)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import json_mutants, make_seeds, mutate, place, run_mutant


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return {seed.name: seed for seed in make_seeds(tmp_path_factory.mktemp("seeds"))}


fraction = st.floats(0, 1, allow_nan=False, allow_subnormal=False)  # other tests flush denormals
OPS = st.one_of(
    st.tuples(st.just("truncate"), fraction),
    st.tuples(st.just("flip"), fraction, st.integers(0, 7)),
    st.tuples(st.just("huge"), fraction),
    st.tuples(st.just("zero"), fraction, st.integers(1, 64)),
    st.tuples(st.just("swap"), fraction, fraction, st.integers(1, 64)),
    st.tuples(st.just("insert"), fraction, st.binary(min_size=1, max_size=16)),
)
NAMES = ["mp4", "gif", "mkv", "frames-json", "frames-png", "snapshot-png", "snapshot-jpg", "weights", "vsae"]


def test_every_seed_is_valid(seeds):
    assert sorted(seeds) == sorted(NAMES)
    for seed in seeds.values():
        seed.consume(seed.path)  # raises nothing: the mutants start from valid files


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(OPS, min_size=1, max_size=4))
def test_mutants_end_in_an_output_or_a_kinema_error(seeds, tmp_path_factory, name, ops):
    seed = seeds[name]
    original = seed.target(seed.path).read_bytes()
    root = place(seed, tmp_path_factory.mktemp("mutant"), mutate(original, ops))
    assert run_mutant(seed, root) is None, ops


def test_sidecar_field_edits_end_in_an_output_or_a_kinema_error(seeds, tmp_path):
    seed = seeds["frames-json"]
    for i, text in enumerate(json_mutants(seed.target(seed.path).read_text())):
        root = place(seed, tmp_path / str(i), text.encode())
        assert run_mutant(seed, root) is None, text[:200]


#: Mutants the fuzzer found before their fix (the op lists `benchmarks.fuzz` drew for them).
FOUND = [
    ("mp4", [("truncate", 0.90625)]),  # the audio track's codec context gone: AttributeError
    ("mp4", [("swap", 0.909958961662297, 0.043066888568204176, 26)]),
    ("gif", [("swap", 0.9129741060068781, 0.8228071330945887, 44), ("truncate", 0.7482242750812449), ("flip", 0.0866813231145428, 6), ("flip", 0.39675188715342524, 7)]),  # IndexError
    ("gif", [("huge", 0.7087022614323838), ("flip", 0.8898652636367038, 2), ("huge", 0.0061768287842781655), ("flip", 0.721165786116842, 7)]),  # DecompressionBombError
    ("gif", [("flip", 0.29458141066814314, 0), ("insert", 0.3620160579603561, b"\x89V\xfaI\xf3\x11"), ("swap", 0.13290601045995287, 0.4831693166218948, 51), ("flip", 0.5439863429623552, 1)]),
    ("gif", [("truncate", 0.361727919903577)]),  # struct.error
]


@pytest.mark.parametrize("name, ops", FOUND)
def test_the_mutants_found_so_far_end_in_a_kinema_error(seeds, tmp_path, name, ops):
    seed = seeds[name]
    root = place(seed, tmp_path, mutate(seed.target(seed.path).read_bytes(), ops))
    assert run_mutant(seed, root) is None
