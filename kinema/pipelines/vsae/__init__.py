"""Video-specific autoencoders: fit one to a video, then explore and re-time that video.

:mod:`.fit` reads the video and fits the model; :mod:`.explore` draws the latent map,
clusters and summaries; :mod:`.motion` makes loops and retimes.
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
