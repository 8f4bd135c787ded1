"""Jobs run in this process, unit by unit, as a worker would run them."""

from fractions import Fraction

from kinema.engines.classical import ClassicalConfig
from kinema.engines.spec import ClassicalSpec
from kinema.io.probe import probe
from kinema.pipelines.batch import InterpolateJob, Split
from kinema.pipelines.interpolate import InterpolateConfig
from tests.media import make_video

SPEC = ClassicalSpec(ClassicalConfig.fast())


def test_parts_of_a_killed_run_are_reused_only_for_the_same_plan(tmp_path):
    source = make_video(tmp_path / "long.mp4", 30, time_base=Fraction(1, 24))
    output = tmp_path / "out.mp4"
    job = InterpolateJob(InterpolateConfig(factor=2), SPEC, chunk_frames=10)
    engine = SPEC.build()
    split = job.run(source, output, engine, "cpu")
    assert isinstance(split, Split) and len(split.parts) == 3
    assert split.parts[0](engine, "cpu")["frames_out"] == 20  # then the run is killed
    again = job.run(source, output, engine, "cpu")
    assert again.parts[0](engine, "cpu") == {"part": 0, "reused": True}
    # Another part size is another plan: nothing is reused, the old parts are removed.
    other = InterpolateJob(InterpolateConfig(factor=2), SPEC, chunk_frames=15).run(source, output, engine, "cpu")
    assert "reused" not in other.parts[0](engine, "cpu")
    assert len(list(tmp_path.glob(".out.mp4.kinema-chunks-*"))) == 1
    for unit in other.parts[1:]:
        unit(engine, "cpu")
    row = other.join(engine, "cpu")
    assert row["joined_by_copy"] and row["frames_out"] == 60 == probe(output).frame_count
    assert not list(tmp_path.glob(".out.mp4.kinema-chunks-*"))  # removed once joined


def test_a_file_to_deblur_runs_whole_not_in_parts(tmp_path):
    from kinema.types import DeblurMode
    from tests.pipelines.test_deblur import tiny_weights

    source = make_video(tmp_path / "long.mp4", 24, time_base=Fraction(1, 24))
    weights = tiny_weights(tmp_path / "d.safetensors")
    config = InterpolateConfig(factor=2, deblur=DeblurMode.ON, deblur_weights=weights)
    row = InterpolateJob(config, SPEC, chunk_frames=10).run(source, tmp_path / "out.mp4", SPEC.build(), "cpu")
    assert not isinstance(row, Split) and row["frames_out"] == 48 == probe(tmp_path / "out.mp4").frame_count
