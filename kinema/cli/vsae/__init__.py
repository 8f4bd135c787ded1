"""``kinema vsae``: an autoencoder fit to one video (or a collection), and the commands
that use it — :mod:`.explore` (fit, map, summary, loop, retime), :mod:`.edit` (upscale,
propagate, edit, stitch) and :mod:`.transmit` (pack, unpack)."""

# Imported for the commands each registers on the app, in the order --help lists them.
from kinema.cli.vsae import explore  # noqa: F401, I001
from kinema.cli.vsae import edit  # noqa: F401
from kinema.cli.vsae import transmit  # noqa: F401
from kinema.cli.vsae.common import app

__all__ = ["app"]
