"""Interpolation engines: two frames and times in, in-between frames out.

``base`` (the interface and the cross-fade baseline), ``classical`` (optical flow only),
``learned`` (the trained network guided by the classical motion, and that guide),
``latent`` (a per-video autoencoder's latent space), ``gif2video`` (GIF colour
restoration, routed by the dither classifier) and ``spec`` (picklable recipes that build
an engine on a device, for batch workers).
"""
