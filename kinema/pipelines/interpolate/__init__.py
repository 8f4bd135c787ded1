"""``interpolate``: retime a video with in-between frames (``--factor``, ``--fps``, ``--slowmo``).

The source streams through once. Frames that only repeat their predecessor (animation on
twos or threes, screen captures) are set aside (:mod:`kinema.pipelines.anchors`) so motion
is interpolated between the distinct drawings instead of stuttering; longer runs are real
pauses and are kept. Each pair of remaining frames ("anchors") is checked for a scene cut:
across a cut the earlier frame is held up to the cut's original time, never blended into
the next shot. With ``CutMode.AUTO`` the learned transition detector
(:mod:`kinema.pipelines.transitions`) reads the video first and decides instead; it also
knows fades and dissolves, so none is mistaken for a cut (and, with ``blend_gradual``,
their in-betweens are cross-fades rather than the engine's). Output times come from
:mod:`kinema.pipelines.retime`; an engine renders
each pair's times in one call, so motion is estimated once per pair, and it is shown the
drawings on either side of the pair (within the shot) for four-frame motion.

:mod:`.config` holds the options, the result and the output timing they imply (shared with
the chunked runner and ``vsae retime``); :mod:`.run` is the one-pass runner.
"""

from kinema.pipelines.interpolate.config import (
    MAX_FRAMES,
    InterpolateConfig,
    InterpolateResult,
    audio_to_copy,
    expected_frames,
    output_timeline,
)
from kinema.pipelines.interpolate.run import find_transitions, interpolate_frames, interpolate_video

__all__ = [
    "MAX_FRAMES",
    "InterpolateConfig",
    "InterpolateResult",
    "audio_to_copy",
    "expected_frames",
    "find_transitions",
    "interpolate_frames",
    "interpolate_video",
    "output_timeline",
]
