"""Training: data (real triplets and synthetic motion), losses and loops."""
