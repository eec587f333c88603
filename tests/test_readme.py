"""Every ```python block in the README runs as written, in order and in one namespace, as a
reader would paste them into one session (the docs stay true)."""
import pathlib
import re

import lightgrad

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_blocks_run(capsys):
    assert len(BLOCKS) >= 5
    namespace = {"__name__": "readme"}
    try:
        for code in BLOCKS:
            exec(compile(code, str(README), "exec"), namespace)
    finally:
        lightgrad.set_printoptions(profile="default")
        lightgrad.autograd.set_detect_anomaly(False)
    # the tour's values, as the README shows them
    assert abs(namespace["x2"].grad.item() - 18.6) < 1e-5
    assert "tensor([6., 6., 6.])" in capsys.readouterr().out
