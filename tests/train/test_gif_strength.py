import math

import numpy as np

from kinema.train.gif_strength import fit, gain, rule


def _row(best: float, signs: list[float]) -> dict:
    """A clip-GIF whose error at strength s is 1 − 2·best·s + s²: least at s = best."""
    return {"Eg": 1.0, "C": -best, "D": 1.0, "signs": signs}


def test_gain_is_the_db_over_the_gif_at_that_strength():
    row = _row(0.5, [0.3, 10.0, 2.0, 8.0])
    assert gain(row, 0.0) == 0.0
    assert math.isclose(gain(row, 0.5), 10 * math.log10(1 / 0.75))
    assert gain(row, 1.0) == 0.0 and gain(row, 1.2) < 0


def test_the_fit_finds_strengths_that_follow_the_signs():
    """Clip-GIFs whose best strength falls as their move leaves the cells: the fitted rule
    gives each nearly its best strength and beats any one fixed strength."""
    rng = np.random.default_rng(0)
    truth = (0.2, -0.12, -0.05)
    rows = []
    for _ in range(60):
        signs = [float(rng.uniform(0.001, 0.3)), 1.0, float(rng.uniform(0.05, 1.0)), 1.0]
        rows.append(_row(rule(truth, signs), signs))
    found = fit(rows)
    got = [rule(found, r["signs"]) for r in rows]
    assert max(abs(g - (-r["C"])) for g, r in zip(got, rows)) < 0.05
    fixed = max(np.mean([gain(r, s) for r in rows]) for s in np.linspace(0.1, 1, 91))
    assert np.mean([gain(r, g) for r, g in zip(rows, got)]) > fixed + 0.1


def test_the_local_means_sigma_is_chosen_on_the_first_clips_and_reported_on_the_others():
    from kinema.train.gif_strength import SIGMAS, means_summary

    def row(clip, kind, none, best_sigma):
        return {"clip": clip, "kind": kind, "none": none, **{str(s): none + (0.5 if s == best_sigma else -0.2) for s in SIGMAS}}

    rows = [row("1", "DIFFUSION", 2.0, 0.7), row("2", "DIFFUSION", -1.0, 0.7), row("3", "DIFFUSION", 1.0, 1.4)]
    rows += [row("1", "ORDERED", 3.0, 1.0)]
    lines = means_summary(rows, first=["1", "2"])
    assert lines[0].startswith("DIFFUSION: σ = 0.7")
    assert "chosen on 2 clip-GIFs: without +0.50 dB, 1 worse, worst -1.00 | with +1.00 dB, 1 worse, worst -0.50" in lines[1]
    assert "held out 1 clip-GIFs" in lines[2] and "with +0.80 dB" in lines[2]  # the held-out clip preferred 1.4
    assert lines[3].startswith("ORDERED: σ = 1.0") and len(lines) == 5
