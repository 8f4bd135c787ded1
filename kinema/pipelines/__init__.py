"""Jobs: plain functions of (input, output, config) that the CLI and batch runners call."""
