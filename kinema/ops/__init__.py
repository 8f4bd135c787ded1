"""Image operations shared by every engine and model: warping, optical flow."""
