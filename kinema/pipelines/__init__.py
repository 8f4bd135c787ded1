"""Jobs: plain functions of (input, output, config) that the CLI and batch runners call.

One module per job: ``convert``, ``interpolate`` (with ``retime``: output times, and
``chunked``: long videos in parts), ``pair``, ``gif2video``, ``snapshot``, ``adapt``
(test-time adaptation of the learned engine), ``vsae/`` (per-video autoencoders) and
``batch/`` (whole folders on a process pool or Ray).
"""
