import torch

from kinema.ops.memo import TensorMemo


def test_results_are_found_by_the_inputs_identity_not_their_values():
    memo = TensorMemo(2)
    calls = []

    def double(x):
        calls.append(1)
        return x * 2

    a = torch.ones(3)
    assert torch.equal(memo.get(double, a), torch.full((3,), 2.0))
    memo.get(double, a[None][0])  # a view of the same storage: found again
    assert len(calls) == 1
    memo.get(double, torch.ones(3))  # equal values, another tensor: computed
    assert len(calls) == 2
    a.add_(1)  # changed in place: its old result no longer applies
    assert torch.equal(memo.get(double, a), torch.full((3,), 4.0)) and len(calls) == 3


def test_only_the_newest_results_are_kept():
    memo = TensorMemo(2)
    xs = [torch.zeros(1) for _ in range(3)]
    for i, x in enumerate(xs):
        memo.put(i, x)
    assert memo.find(xs[0]) is None and memo.find(xs[1]) == 1 and memo.find(xs[2]) == 2
    memo.put(9, xs[1])  # replacing keeps one entry per key
    assert memo.find(xs[1]) == 9 and memo.find(xs[2]) == 2


def test_a_memo_holds_as_many_results_as_its_size():
    # A video pair asks for four flows and a look-ahead for two more: all must stay.
    memo = TensorMemo(6)
    xs = [torch.zeros(1) for _ in range(7)]
    for i, x in enumerate(xs):
        memo.put(i, x)
    assert [memo.find(x) for x in xs] == [None, 1, 2, 3, 4, 5, 6]


def test_a_copy_starts_empty_and_threads_can_share_one():
    import copy
    import pickle
    import threading

    memo = TensorMemo(3)
    x = torch.zeros(1)
    memo.put("kept", x)
    for clone in (copy.deepcopy(memo), pickle.loads(pickle.dumps(memo))):
        assert clone.size == 3 and clone.find(x) is None
    keys = [torch.zeros(1) for _ in range(400)]
    writers = [threading.Thread(target=lambda part=part: [memo.put(i, k) for i, k in enumerate(part)]) for part in (keys[:200], keys[200:])]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert len(memo._entries) == 3  # never more than size, whatever the interleaving
