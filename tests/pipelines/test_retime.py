from fractions import Fraction

import pytest

from kinema.pipelines.retime import FactorSchedule, RateSchedule


def _run(schedule, frames):
    slots = []
    for pts, duration in frames:
        schedule.feed(pts, duration)
        slots += list(schedule.take(pts))
    end = frames[-1][0] + frames[-1][1]
    return slots + list(schedule.finish(end))


@pytest.mark.parametrize("source, target", [(Fraction(24), Fraction(60)), (Fraction(24000, 1001), Fraction(60)), (Fraction(25), Fraction(30000, 1001))])
def test_rate_schedule_keeps_the_duration_to_within_one_output_frame(source, target):
    frames = [(Fraction(i) / source, 1 / source) for i in range(97)]
    slots = _run(RateSchedule(target), frames)
    duration_in = Fraction(97) / source
    duration_out = len(slots) / target
    assert 0 <= duration_out - duration_in < 1 / target
    assert [t for t, _ in slots] == [Fraction(j) / target for j in range(len(slots))]
    assert RateSchedule(target).count(duration_in) == len(slots)


def test_factor_schedule_splits_every_interval_evenly_including_vfr_ones():
    frames = [(Fraction(0), Fraction(1, 10)), (Fraction(1, 10), Fraction(3, 10)), (Fraction(4, 10), Fraction(1, 10))]
    slots = _run(FactorSchedule(2), frames)
    assert [t for t, _ in slots] == [Fraction(0), Fraction(1, 20), Fraction(1, 10), Fraction(1, 4), Fraction(4, 10), Fraction(9, 20)]
    assert sum(d for _, d in slots) == Fraction(1, 2)
