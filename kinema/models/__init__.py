"""Networks and their configs. Each model is a frozen config dataclass (``ConfigDict``) and
an ``nn.Module`` built from it, with one save/load (``checkpoint.Checkpointed``, safetensors
only). ``interp/`` (the interpolator and its objective), ``gif2video/`` (GIF restoration: CCDNet and
the dither classifier), ``snapshot/`` (video snapshots and their objective), ``video_ae``
(per-video autoencoders). The shipped files are listed in :mod:`kinema.weights`.
"""
