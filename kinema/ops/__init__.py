"""Image operations shared by every engine and model: warping, splatting, optical flow,
hole filling, scene-cut tests and quality metrics."""
