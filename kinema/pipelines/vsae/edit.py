"""Editing frames through their video: removal, stitching, stretching, extension.

Stitching, stretching and extension are the paper's (section 5, appendix B), three steps:

1. **compose** a canvas that is roughly right — frames set side by side, a frame
   stretched or mirror-padded;
2. **reproject** it: ``g(f(·))`` draws the closest image the video could show, which makes
   the rough parts look like the video and the joins continuous; between passes the
   pixels the user wants kept are put back (so the passes solve for the edited part
   only);
3. **keep** what lies outside the edit: the result is blended into the canvas through
   a mask that ramps up over the edit's first pixels, so outside the edit the output is
   the input exactly and the join falls inside the redrawn region.

Removal is not the paper's. Filling the hole from its surroundings and reprojecting (the
paper's way) draws the object back: the autoencoder can only draw frames of its video,
and the nearest one still shows the object (measured; ``docs/models/video_ae.md``). So
the hole is filled with what *other* frames show there — the classical video-inpainting
step, motion-compensated — and from its surroundings where no frame ever showed it;
reprojection is an option.

Shapes: frames ``(N, 3, H, W)`` float in [0, 1]; edit masks ``(N, 1, H, W)``, 1 = edit.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn.functional as F

from kinema.io.atomic import check_output
from kinema.io.images import IMAGE_SUFFIXES, read_image, write_image
from kinema.io.masks import read_mask
from kinema.io.output import OutputOptions, open_writer, output_kind
from kinema.io.pixels import from_hwc
from kinema.models.video_ae import VideoAE
from kinema.ops.fill import push_pull_fill
from kinema.ops.flow import dis_flow
from kinema.ops.resize import resize
from kinema.ops.warp import Padding, backward_warp, base_grid
from kinema.pipelines.convert import Progress, timeline_of
from kinema.pipelines.vsae.fit import load_video_model, open_model_and_video
from kinema.pipelines.vsae.propagate import follow_motion
from kinema.types import BadInputError, UnsupportedFormatError


def feather(mask: torch.Tensor, width: int) -> torch.Tensor:
    """``mask`` ``(N, 1, H, W)`` with a linear ramp inside its edge: 0 outside the mask,
    ``1/width`` on its edge, rising to 1 ``width − 1`` pixels in (the band the seam is
    blended over)."""
    if width <= 0:
        return mask.float()
    shrunk = [mask.float()]
    for _ in range(width):
        shrunk.append(-F.max_pool2d(-shrunk[-1], 3, 1, 1))
    return torch.stack(shrunk[:-1]).mean(0)


@torch.no_grad()
def reproject_edit(net: VideoAE, canvas: torch.Tensor, edit: torch.Tensor, *, passes: int = 6, seam: int = 4) -> torch.Tensor:
    """``canvas`` ``(N, 3, H, W)`` with its edited pixels ``edit`` ``(N, 1, H, W)`` (1 =
    edited) made to look like the video: ``passes`` passes through ``net``, the kept
    pixels restored after each, the result blended in over the edit's outer ``seam``
    pixels. Outside the edit the output is the canvas."""
    device = next(net.parameters()).device
    canvas, edit = canvas.to(device), edit.to(device).float()
    blend = feather(edit, seam)
    x = canvas
    for _ in range(passes):
        x = net(x)
        x = blend * x + (1 - blend) * canvas
    return x


def fill_from_surroundings(frames: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """``frames`` with ``hole`` ``(N, 1, H, W)`` (1 = remove) filled from its edges inward
    (push–pull: each hole pixel takes the nearest surroundings' colours)."""
    return push_pull_fill(frames, 1 - hole.float())


def fill_from_other_frames(
    frames: torch.Tensor, holes: torch.Tensor, t: int, *, reach: int = 12, filled: torch.Tensor | None = None
) -> tuple[torch.Tensor, float]:
    """Frame ``t`` of ``frames`` ``(N, 3, H, W)`` with its hole (``holes`` ``(N, 1, H, W)``,
    1 = the object, in every frame) filled with what the other frames show there.

    The frames within ``reach``, nearest first, are each brought into frame ``t``'s place
    by DIS flow — the flow inside the hole replaced by its surroundings', so it follows
    the background, not the object being removed — and a hole pixel takes the first of
    them that shows it uncovered. What no frame shows is filled from the surroundings.
    ``filled``: every frame filled from its surroundings, when the caller has made it once
    for several ``t``. Returns the frame ``(1, 3, H, W)`` and the share of the hole no
    frame showed."""

    def own_fill(i: int) -> torch.Tensor:
        return filled[i : i + 1] if filled is not None else fill_from_surroundings(frames[i : i + 1], holes[i : i + 1].float())

    hole = holes[t : t + 1].float()
    out = own_fill(t)
    todo = hole.clone()
    if float(hole.sum()) == 0:
        return out, 0.0
    reference = out.clone()  # the flow is computed from the frame without its object
    around = F.max_pool2d(hole, 5, 1, 2)  # flow near the object's edge is the object's too
    h, w = hole.shape[-2:]
    for c in sorted((c for c in range(len(frames)) if c != t and abs(c - t) <= reach), key=lambda c: abs(c - t)):
        flow = push_pull_fill(dis_flow(reference, own_fill(c), finest_scale=0), 1 - around)
        land = base_grid(h, w) + flow
        inside = (land[:, :1] >= 0) & (land[:, :1] <= w - 1) & (land[:, 1:] >= 0) & (land[:, 1:] <= h - 1)
        covered = backward_warp(holes[c : c + 1].float(), flow, padding=Padding.ZEROS)
        take = todo * (covered < 0.01).float() * inside.float()
        out = take * backward_warp(frames[c : c + 1], flow, padding=Padding.BORDER) + (1 - take) * out
        todo = todo * (1 - take)
        if float(todo.sum()) == 0:
            break
    return out, float(todo.sum() / hole.sum())


def remove(
    net: VideoAE, frames: torch.Tensor, holes: torch.Tensor, t: int, *, passes: int = 0, seam: int = 4, filled: torch.Tensor | None = None
) -> torch.Tensor:
    """Object removal from frame ``t``: the hole filled from the other frames (then from
    its surroundings), and, with ``passes``, reprojected (the paper's removal).
    ``filled``: see :func:`fill_from_other_frames`."""
    canvas, _ = fill_from_other_frames(frames, holes, t, filled=filled)
    if passes == 0:
        return canvas
    return reproject_edit(net, canvas, holes[t : t + 1], passes=passes, seam=seam)


def insert(net: VideoAE, frame: torch.Tensor, patch: torch.Tensor, x: int, y: int, *, band: int = 4, passes: int = 6) -> torch.Tensor:
    """``patch`` ``(3, h, w)`` pasted into ``frame`` ``(3, H, W)`` with its top-left corner
    at ``(x, y)``, and the ``band`` pixels either side of its border redrawn by
    reprojection so it sits in the frame without a visible edge → ``(1, 3, H, W)``. The
    patch's inside and the frame away from it are kept."""
    h, w = patch.shape[-2:]
    canvas = frame[None].clone()
    canvas[..., y : y + h, x : x + w] = patch
    pasted = torch.zeros(1, 1, *frame.shape[-2:])
    pasted[..., y : y + h, x : x + w] = 1
    grown = F.max_pool2d(pasted, 2 * band + 1, 1, band)
    shrunk = -F.max_pool2d(-pasted, 2 * band + 1, 1, band)
    return reproject_edit(net, canvas, grown - shrunk, passes=passes, seam=max(1, band // 2))


def stitch(net: VideoAE, frames: list[torch.Tensor], *, overlap: int = 16, passes: int = 6) -> torch.Tensor:
    """Frames ``(3, H, W)`` (one height) set side by side and joined seamlessly: a band of
    ``overlap`` pixels on each side of every join is redrawn by reprojection →
    ``(1, 3, H, ΣW)``."""
    if len({f.shape[-2] for f in frames}) != 1:
        raise ValueError("frames to stitch must have one height")
    canvas = torch.cat(frames, -1)[None]
    edit = torch.zeros(1, 1, *canvas.shape[-2:])
    x = 0
    for f in frames[:-1]:
        x += f.shape[-1]
        edit[..., max(0, x - overlap) : x + overlap] = 1
    return reproject_edit(net, canvas, edit, passes=passes, seam=overlap // 2)


def stretch(net: VideoAE, frame: torch.Tensor, width: int, *, passes: int = 6) -> torch.Tensor:
    """A frame ``(3, H, W)`` stretched to ``width`` and reprojected, so what the stretch
    smeared is drawn at the video's own scale → ``(1, 3, H, width)``."""
    canvas = F.interpolate(frame[None], size=(frame.shape[-2], width), mode="bicubic", align_corners=False).clamp(0, 1)
    return reproject_edit(net, canvas, torch.ones(1, 1, *canvas.shape[-2:]), passes=passes, seam=0)


def extend(net: VideoAE, frame: torch.Tensor, size: tuple[int, int], *, passes: int = 6, seam: int = 8) -> torch.Tensor:
    """Spatial extrapolation: a frame ``(3, H, W)`` mirror-padded (centred) to ``size``
    and reprojected; the frame itself is kept → ``(1, 3, *size)``."""
    h, w = frame.shape[-2:]
    H, W = size
    if H < h or W < w:
        raise ValueError(f"an extension must be at least the frame's size {w}x{h}, got {W}x{H}")
    top, left = (H - h) // 2, (W - w) // 2
    pads = (left, W - w - left, top, H - h - top)
    canvas = frame[None]
    while canvas.shape[-2] < H or canvas.shape[-1] < W:  # reflection pads at most the size once
        step = [min(p, s - 1) for p, s in zip(pads, (canvas.shape[-1], canvas.shape[-1], canvas.shape[-2], canvas.shape[-2]))]
        canvas = F.pad(canvas, step, mode="reflect")
        pads = tuple(p - s for p, s in zip(pads, step))
    edit = torch.ones(1, 1, H, W)
    edit[..., top : top + h, left : left + w] = 0
    return reproject_edit(net, canvas, edit, passes=passes, seam=seam)


# --- files: what `kinema vsae edit` and `kinema vsae stitch` do -------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels of the video's frames: ``x, y`` its top-left corner."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Box:
        try:
            x, y, w, h = (int(v) for v in text.split(","))
        except ValueError:
            raise BadInputError(f"{text!r} is not a box: write it x,y,w,h (pixels)") from None
        if w < 1 or h < 1:
            raise BadInputError(f"box {text}: width and height must be ≥ 1")
        return cls(x, y, w, h)

    def mask(self, height: int, width: int) -> torch.Tensor:
        """``(H, W)`` bool, refusing a box that is not wholly inside the frame."""
        if self.x < 0 or self.y < 0 or self.x + self.w > width or self.y + self.h > height:
            raise BadInputError(f"box {self.x},{self.y},{self.w},{self.h} lies outside the {width}x{height} frame")
        out = torch.zeros(height, width, dtype=torch.bool)
        out[self.y : self.y + self.h, self.x : self.x + self.w] = True
        return out


def hole_of(spec: str, source_size: tuple[int, int]) -> torch.Tensor:
    """The region to remove, ``(H, W)`` bool at the video's size: a box ``x,y,w,h`` or a
    mask image (every pixel that is not the background — its smallest value — is removed)."""
    if Path(spec).suffix:
        mask = read_mask(Path(spec))
        mask.require_size(Path(spec), source_size)
        return mask.labels > 0
    return Box.parse(spec).mask(*source_size)


@dataclass(frozen=True)
class EditResult:
    output: Path
    frames: int
    #: Share of each frame's pixels that was removed (mean over the edited frames).
    removed: float
    seconds: float


def follow_hole(frames: torch.Tensor, region: torch.Tensor, at: int) -> torch.Tensor:
    """The region ``(1, 1, H, W)`` drawn on frame ``at`` in every frame ``(N, 1, H, W)``:
    carried forward and backward by motion, grown by 2 pixels (an object's edge
    blends into what is around it, and a hole that leaves a rim of it behind shows)."""
    first = torch.cat([1 - region, region], 1)[0]
    forward = [p.argmax(0) == 1 for p in follow_motion(iter(frames[at:]), first)]
    backward = [p.argmax(0) == 1 for p in follow_motion(iter(frames[: at + 1].flip(0)), first)]
    holes = torch.stack([*backward[:0:-1], *forward]).float()[:, None]
    return F.max_pool2d(holes, 5, 1, 2)


def edit_video(
    model: Path,
    source: Path,
    output: Path,
    hole: str,
    *,
    frame: int | None = None,
    passes: int = 0,
    options: OutputOptions = OutputOptions(),
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
    progress: Progress | None = None,
) -> EditResult:
    """Remove ``hole`` (a box or a mask drawn at the video's size on frame ``frame``, or on
    the first frame) from that frame (written as one image), or from every frame (a video
    or frames folder): the hole follows the object through the video
    (:func:`follow_hole`) and each frame is filled from the others
    (:func:`fill_from_other_frames`); ``passes`` reprojects the result. Output is at the
    model's working size."""
    started = time.perf_counter()
    source, output = Path(source), Path(output)
    single = frame is not None
    if single and output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UnsupportedFormatError(f"{output}: one edited frame is written as an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if not single:
        output_kind(output)
    check_output(output, overwrite=overwrite, inputs=(source, Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    info = footage.info
    region = hole_of(hole, (info.height, info.width)).float()[None, None]
    region = (resize(region, *vm.size) > 0.25).float()  # at the working size, erring towards removing
    count = len(footage.frames)
    if single and not 0 <= frame < count:
        raise BadInputError(f"frame {frame} is not in the video (0 … {count - 1})")
    frames = footage.as_float()
    holes = follow_hole(frames, region, frame or 0)
    if single:
        out = remove(vm.net, frames, holes, frame, passes=passes).cpu()
        write_image(output, out[0], overwrite=overwrite)
        return EditResult(output=output, frames=1, removed=float(holes[frame].mean()), seconds=time.perf_counter() - started)
    timeline = dataclasses.replace(timeline_of(info), alpha=False, bit_depth=8)
    filled = fill_from_surroundings(frames, holes)  # each frame's own fill, made once for all
    with open_writer(output, timeline, options=options, overwrite=overwrite) as writer:
        for i in range(count):
            out = remove(vm.net, frames, holes, i, passes=passes, filled=filled).cpu()
            writer.write(footage.frame(i, out[0]))
            if progress is not None:
                progress(i + 1, count)
    return EditResult(output=output, frames=count, removed=float(holes.mean()), seconds=time.perf_counter() - started)


def parse_place(text: str, what: str) -> tuple[int, str]:
    """``FRAME:REST`` → (frame, REST), e.g. ``12:10,20,32,24``."""
    frame, sep, rest = text.partition(":")
    if not sep or not frame.strip().isdigit():
        raise BadInputError(f"{text!r}: write {what}")
    return int(frame), rest


def insert_frame(
    model: Path,
    source: Path,
    output: Path,
    insert_from: str,
    at: str,
    *,
    passes: int = 6,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
) -> EditResult:
    """Insertion (the paper's appendix B): the box ``SRC:x,y,w,h`` of frame SRC pasted into
    frame ``FRAME:X,Y`` at X, Y (boxes and places in the video's pixels) and made
    seamless; written as one image at the model's working size."""
    started = time.perf_counter()
    source, output = Path(source), Path(output)
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UnsupportedFormatError(f"{output}: an edited frame is written as an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    src, box_text = parse_place(insert_from, "the frame and box to copy as FRAME:x,y,w,h")
    dst, place = parse_place(at, "where to paste as FRAME:X,Y")
    try:
        px, py = (int(v) for v in place.split(","))
    except ValueError:
        raise BadInputError(f"{at!r}: write where to paste as FRAME:X,Y") from None
    check_output(output, overwrite=overwrite, inputs=(source, Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    info, count = footage.info, len(footage.frames)
    for f in (src, dst):
        if not 0 <= f < count:
            raise BadInputError(f"frame {f} is not in the video (0 … {count - 1})")
    box = Box.parse(box_text)
    box.mask(info.height, info.width)  # inside the frame, or a clear error
    Box(px, py, box.w, box.h).mask(info.height, info.width)
    sy, sx = vm.size[0] / info.height, vm.size[1] / info.width  # the video's pixels → working size
    x0, y0, x1, y1 = round(box.x * sx), round(box.y * sy), round((box.x + box.w) * sx), round((box.y + box.h) * sy)
    patch = footage.as_float([src])[0][:, y0:y1, x0:x1]
    tx, ty = min(round(px * sx), vm.size[1] - patch.shape[-1]), min(round(py * sy), vm.size[0] - patch.shape[-2])
    out = insert(vm.net, footage.as_float([dst])[0], patch, tx, ty, passes=passes).cpu()
    write_image(output, out[0], overwrite=overwrite)
    return EditResult(output=output, frames=1, removed=0.0, seconds=time.perf_counter() - started)


def stitch_images(
    model: Path,
    images: list[Path],
    output: Path,
    *,
    stretch_to: int | None = None,
    extend_to: tuple[int, int] | None = None,
    passes: int = 6,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
) -> tuple[int, int]:
    """Frames (image files) of the model's video joined side by side (or one frame
    stretched to width ``stretch_to``, or extended to ``extend_to`` = (W, H)) and
    reprojected, written to the image ``output``. Each frame is first scaled to the
    model's working height. Returns the output's (height, width)."""
    output = Path(output)
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UnsupportedFormatError(f"{output}: the result is written as an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    check_output(output, overwrite=overwrite, inputs=(*map(Path, images), Path(model)))
    if (stretch_to is not None or extend_to is not None) and len(images) != 1:
        raise BadInputError("--stretch and --extend take one frame")
    if stretch_to is None and extend_to is None and len(images) < 2:
        raise BadInputError("stitching takes two frames or more (or one with --stretch or --extend)")
    vm = load_video_model(model, device=device)
    height = vm.size[0]
    frames = []
    for path in images:
        image = from_hwc(read_image(Path(path)))[0][None]
        h, w = image.shape[-2:]
        frames.append(resize(image, height, max(1, round(w * height / h)))[0])
    if stretch_to is not None:
        out = stretch(vm.net, frames[0], stretch_to, passes=passes)
    elif extend_to is not None:
        out = extend(vm.net, frames[0], (extend_to[1], extend_to[0]), passes=passes)
    else:
        out = stitch(vm.net, frames, passes=passes)
    write_image(output, out[0].cpu(), overwrite=overwrite)
    return tuple(out.shape[-2:])
