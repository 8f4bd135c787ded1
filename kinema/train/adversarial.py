"""Region-of-interest adversarial training (the zoom-in-to-check paper, section 3.3).

The paper crops object proposals from the synthesized frame and from the full-resolution
ground truth and lets a spectral-norm discriminator judge them, so the adversarial signal
lands on moving objects instead of being averaged over the background. We have no
detector (no pretrained weights), so the regions are chosen where they matter for
interpolation: the patches where the current output is furthest from the truth —
motion boundaries, occlusions, thin moving parts. Patches are cut at the training
resolution (our crops are already full resolution: nothing is downscaled for training).

Losses are the paper's hinge form (eqs. 9–10): ``L_d = E[relu(1 + D(fake))] +
E[relu(1 − D(real))]``, ``L_g = −E[D(fake)]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """Spectral-norm conv net: ``(N, C, P, P)`` patches → ``(N,)`` realness scores
    (``channels`` > 3 for a conditional discriminator that also sees its evidence)."""

    def __init__(self, width: int = 32, channels: int = 3):
        super().__init__()
        layers, cin = [], channels
        for cout in (width, 2 * width, 4 * width):
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2)]
            cin = cout
        layers.append(spectral_norm(nn.Conv2d(cin, 1, 3, 1, 1)))
        self.body = nn.Sequential(*layers)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.body(patches * 2 - 1).mean((1, 2, 3))


def worst_patches(
    pred: torch.Tensor, target: torch.Tensor, *, size: int = 32, count: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` patches of ``size``² per image with the largest mean error.

    ``pred``, ``target`` ``(N, 3, H, W)`` → ``(N·count, 3, size, size)`` each; candidate
    patches lie on a half-overlapping grid, and the selection does not carry gradients
    (the patch contents of ``pred`` do)."""
    n, _, h, w = pred.shape
    size = min(size, h, w)
    stride = max(size // 2, 1)
    with torch.no_grad():
        error = F.avg_pool2d((pred - target).abs().mean(1, keepdim=True), size, stride)
        gw = error.shape[-1]
        top = error.flatten(1).topk(min(count, error[0].numel()), dim=1).indices
    fake, real = [], []
    for i in range(n):
        for index in top[i].tolist():
            y, x = (index // gw) * stride, (index % gw) * stride
            fake.append(pred[i, :, y : y + size, x : x + size])
            real.append(target[i, :, y : y + size, x : x + size])
    return torch.stack(fake), torch.stack(real)


def discriminator_loss(disc: PatchDiscriminator, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Hinge loss of the discriminator; ``fake`` is detached here."""
    return F.relu(1 + disc(fake.detach())).mean() + F.relu(1 - disc(real)).mean()


def generator_loss(disc: PatchDiscriminator, fake: torch.Tensor) -> torch.Tensor:
    """``−E[D(fake)]``: pushes the synthesized patches towards what D calls real."""
    return -disc(fake).mean()


def discriminator_update(disc: nn.Module, opt: torch.optim.Optimizer, fake: torch.Tensor, real: torch.Tensor):
    """The discriminator's step, to run once the generator's optimizer has stepped (the
    ``after`` of a :func:`kinema.train.loop.run_loop` step)."""

    def update() -> None:
        opt.zero_grad(set_to_none=True)  # drop what the generator loss left on D
        discriminator_loss(disc, fake, real).backward()
        opt.step()

    return update
