"""Video-specific autoencoders: fit one to a video, then explore, re-time and edit it.

:mod:`.fit` reads the video (or a collection of videos) and fits the model, and
learns a latent path between its frames; :mod:`.explore` draws the latent map,
clusters and summaries; :mod:`.motion` makes loops and retimes; :mod:`.upscale` brings
small frames of the video back to its size; :mod:`.propagate` carries a mask through it;
:mod:`.edit` removes objects and stitches, stretches and extends frames; :mod:`.transmit`
packs a video as its model and a few small frames (:mod:`.packed`: what the file holds)
and rebuilds it.
"""

from kinema.pipelines.vsae.explore import MapResult, SummaryResult, latent_map, summary
from kinema.pipelines.vsae.fit import FitVideoConfig, FitVideoResult, VideoModel, fit_video, load_video_model, open_model_and_video
from kinema.pipelines.vsae.motion import LoopConfig, LoopResult, Shot, find_jumps, plan_loop, retime, video_loop

__all__ = [
    "FitVideoConfig",
    "FitVideoResult",
    "LoopConfig",
    "LoopResult",
    "MapResult",
    "Shot",
    "SummaryResult",
    "VideoModel",
    "find_jumps",
    "fit_video",
    "latent_map",
    "load_video_model",
    "open_model_and_video",
    "plan_loop",
    "retime",
    "summary",
    "video_loop",
]
