"""Every ```python block in the README and then in docs/guide.md runs as written, in order
and in one namespace, as a reader would paste them into one session (the docs stay true)."""
import pathlib
import re

import lightgrad

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "guide.md"


def blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def run_blocks(path, namespace):
    for code in blocks(path):
        exec(compile(code, str(path), "exec"), namespace)


def test_readme_and_guide_blocks_run(capsys):
    assert len(blocks(README)) >= 3 and len(blocks(GUIDE)) >= 5
    namespace = {"__name__": "readme"}
    try:
        run_blocks(README, namespace)
        # the tour's value, as the README shows it
        assert abs(namespace["x2"].grad.item() - 18.6) < 1e-5
        run_blocks(GUIDE, namespace)
    finally:
        lightgrad.set_printoptions(profile="default")
        lightgrad.autograd.set_detect_anomaly(False)
    # a value the guide prints, as it shows it
    assert "tensor([6., 6., 6.])" in capsys.readouterr().out
