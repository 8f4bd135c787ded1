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
