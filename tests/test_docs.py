"""The front door stays a front door, and every model has its card."""

import re
from pathlib import Path

from kinema.models.codec import VideoCodec
from kinema.models.deblur import DeblurNet
from kinema.models.gif2video import CCDNet, DitherNet
from kinema.models.interp import InterpNet
from kinema.models.snapshot import SnapshotNet
from kinema.models.transitions import TransitionNet
from kinema.models.video_ae import VideoAE
from kinema.weights import SHIPPED

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), target
    assert "pip install -e \".[dev]\"" in readme and "python -m pytest" in readme
    first = re.search(r"```bash\n(kinema interpolate [^\n]+)\n```", readme).group(1)
    assert (ROOT / first.split()[2]).is_file(), "the README's first command needs its sample clip"


def test_every_shipped_model_has_a_card_and_every_benchmark_block_has_its_results():
    card = {InterpNet: "interp", DeblurNet: "deblur", VideoCodec: "codec", CCDNet: "ccdnet", DitherNet: "dither", SnapshotNet: "snapshot", TransitionNet: "transitions", VideoAE: "video_ae"}
    for model in {entry.model for entry in SHIPPED} | {VideoAE}:
        assert model in card, f"{model.__name__} has no model card"
        page = (ROOT / "docs" / "models" / f"{card[model]}.md").read_text()
        assert "## Shipped files" in page and "python -m kinema.train" in page or model is VideoAE, card[model]
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for name in re.findall(r"<!-- bench:([\w-]+) -->", page.read_text()):
            assert (ROOT / "benchmarks" / "results" / f"{name}.md").is_file(), (page, name)
