import torch

from kinema.train.adversarial import PatchDiscriminator, discriminator_loss, generator_loss, worst_patches


def test_worst_patches_find_the_region_with_the_error():
    target = torch.zeros(2, 3, 64, 64)
    pred = target.clone()
    pred[0, :, 40:56, 8:24] = 1.0  # the only error of image 0
    pred[1, :, 0:8, 56:64] = 1.0
    fake, real = worst_patches(pred, target, size=16, count=1)
    assert fake.shape == real.shape == (2, 3, 16, 16)
    assert fake[0].mean() == 1.0 and real[0].mean() == 0.0  # the patch covers the error exactly
    assert fake[1].mean() > 0


def test_discriminator_learns_to_separate_and_generator_loss_pushes_back():
    torch.manual_seed(0)
    disc = PatchDiscriminator(width=8)
    opt = torch.optim.Adam(disc.parameters(), lr=2e-3)
    real = torch.rand(8, 3, 16, 16)  # noisy "sharp" patches
    fake = torch.full((8, 3, 16, 16), 0.5, requires_grad=True)  # flat "blurry" ones
    for _ in range(60):
        opt.zero_grad()
        discriminator_loss(disc, fake, real).backward()
        opt.step()
    assert disc(real).mean() > disc(fake).mean() + 0.5
    generator_loss(disc, fake).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
