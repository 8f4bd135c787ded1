"""The one training loop, on a model small enough to reason about."""

import csv
import json

import pytest
import torch

from kinema.train.loop import Schedule, run_loop


def _train(out, *, stop_at=None, calls=None, steps=6):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(0)
    target = torch.tensor([[1.0], [2.0], [3.0]])

    def step(number):
        x = torch.randn(8, 3, generator=g)
        loss = ((model(x) - x @ target) ** 2).mean()
        if calls is None:
            return loss, {"scale": float(x.abs().mean())}
        return loss, {}, lambda: calls.append(number)

    final = run_loop(
        out, parts={("model", "adam"): (model, opt)}, optimizer=opt, generator=g, schedule=Schedule(steps=steps, lr=0.1, eval_every=2),
        step=step, evaluate=lambda: {"val": float(model.weight.detach().sum())}, state_arch="test.state", model_config={"in": 3},
        train_config={"steps": steps}, stop_at=stop_at,
    )  # fmt: skip
    return final, model


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole, whole_model = _train(tmp_path / "a")
    assert _train(tmp_path / "b", stop_at=3)[0] == 3
    resumed, resumed_model = _train(tmp_path / "b")
    assert whole == resumed == 6
    assert torch.equal(whole_model.weight, resumed_model.weight)
    rows = list(csv.DictReader((tmp_path / "a" / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4, 6] and list(rows[0]) == ["step", "loss", "scale", "val", "seconds"]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_the_extra_update_runs_after_every_step(tmp_path):
    (tmp_path / "c").mkdir()
    calls = []
    _train(tmp_path / "c", calls=calls)
    assert calls == list(range(6))


def test_resuming_under_other_options_is_refused_and_leaves_the_run_as_it_was(tmp_path):
    # Another step count would splice two cosine schedules into one run.
    assert _train(tmp_path, stop_at=2)[0] == 2
    before = (tmp_path / "state.safetensors").read_bytes(), (tmp_path / "config.json").read_text()
    with pytest.raises(ValueError, match=r"other training options \(steps 6 → 9\)"):
        _train(tmp_path, steps=9)
    assert ((tmp_path / "state.safetensors").read_bytes(), (tmp_path / "config.json").read_text()) == before
    assert json.loads(before[1])["train"] == {"steps": 6}
    assert _train(tmp_path)[0] == 6  # the same options resume
