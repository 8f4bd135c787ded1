"""Fixtures shared by the whole suite."""

import pytest
import torch

_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=_CUDA)])
def device(request) -> torch.device:
    """Each device a test should pass on: the CPU always, CUDA where a GPU is present (so a
    GPU machine runs the same tests on both)."""
    return torch.device(request.param)
