"""Interpolation engines: two frames and times in, in-between frames out."""
