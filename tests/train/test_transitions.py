"""Training sequences for the transition detector: exact labels."""

import torch

from kinema.train.transitions import CUT, END, INSIDE, NONE, START, Builder, Join, assemble, mix


def _shot(value: float, n: int) -> torch.Tensor:
    return torch.full((n, 3, 4, 6), value)


def test_a_cut_labels_the_new_shots_first_frame():
    frames, labels, events = assemble([_shot(0.2, 5), _shot(0.8, 4)], [Join("cut")])
    assert len(frames) == 9
    assert labels.tolist() == [NONE] * 5 + [CUT] + [NONE] * 3
    assert events == [("cut", 5, 5)]
    assert frames[4].mean() == 0.2 and frames[5].mean() == 0.8


def test_a_dissolve_mixes_linearly_and_labels_its_mixed_frames():
    join = Join("dissolve", a=3, b=3)
    frames, labels, events = assemble([_shot(0.0, 2 + 3), _shot(1.0, 3 + 2)], [join])
    assert labels.tolist() == [NONE, NONE, START, INSIDE, END, NONE, NONE]
    assert events == [("dissolve", 2, 4)]
    assert torch.allclose(frames[2:5].mean((1, 2, 3)), torch.tensor([0.25, 0.5, 0.75]))


def test_a_fade_goes_through_its_colour_and_holds_it():
    join = Join("fade", a=2, b=2, hold=2, colour=(0.0, 0.0, 0.0))
    frames, labels, events = assemble([_shot(0.9, 3 + 2), _shot(0.6, 2 + 3)], [join])
    means = frames.mean((1, 2, 3))
    assert events == [("fade", 3, 8)]
    assert labels[3:9].tolist() == [START, INSIDE, INSIDE, INSIDE, INSIDE, END]
    assert torch.allclose(means[3:9], torch.tensor([0.6, 0.3, 0.0, 0.0, 0.2, 0.4]), atol=1e-6)
    assert torch.allclose(means[[2, 9]], torch.tensor([0.9, 0.6]))


def test_a_wipe_reveals_the_new_shot_monotonically():
    join = Join("wipe", a=5, b=5, angle=0.3)
    mixed = mix(join, _shot(0.0, 5), _shot(1.0, 5))
    shares = mixed.mean((1, 2, 3))
    assert (shares[1:] > shares[:-1]).all() and 0 <= shares[0] < 0.3 and 0.7 < shares[-1] <= 1


def test_built_sequences_have_labels_that_match_their_events():
    photos = [torch.rand(3, 40, 60) for _ in range(3)]
    clips = [(torch.rand(12, 3, 15, 25) * 255).byte()]
    builder = Builder(clips, photos, (12, 20))
    g = torch.Generator().manual_seed(3)
    for _ in range(10):
        frames, labels, events = builder.sequence(150, g)
        assert frames.shape[1:] == (3, 12, 20) and len(frames) == len(labels) >= 150
        assert 0 <= float(frames.min()) and float(frames.max()) <= 1
        rebuilt = torch.zeros_like(labels)
        for kind, first, last in events:
            if kind == "cut":
                rebuilt[first] = CUT
            else:
                rebuilt[first], rebuilt[first + 1 : last], rebuilt[last] = START, INSIDE, END
        assert torch.equal(rebuilt, labels)
