"""Learned models; each folder mirrors one model (config, modules, the model itself)."""
