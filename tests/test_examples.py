"""The examples in examples/ run, on small settings, and do what they promise."""
import pathlib
import sys

import numpy as np
import pytest

from .conftest import require

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))


def test_chapter_network_with_nn_and_optim():
    import chapter_nn
    losses = chapter_nn.main(steps=100, verbose=False)
    assert losses[-1] < 0.5 * losses[0]


def test_digits_cnn_reaches_97_percent(tmp_path):
    for name in ("sklearn", "tqdm", "matplotlib"):
        require(name)
    import digits_cnn
    plot = tmp_path / "digits.png"
    acc, _, history = digits_cnn.main(plot=str(plot), progress=False)
    assert acc >= 0.97
    assert history["loss"][-1] < history["loss"][0]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_char_lstm_loss_falls_and_samples(capsys):
    import char_lstm
    losses = char_lstm.main(steps=80, every=40)
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.5
    out = capsys.readouterr().out
    assert "step 80" in out and "The " in out


def test_dp_sgd_with_per_example_gradients_learns():
    require("sklearn")
    import dp_sgd_digits
    assert dp_sgd_digits.main(epochs=4, verbose=False) >= 0.85
    # with clipping so tight and noise so loud that nothing is learned, it stays near chance
    assert dp_sgd_digits.main(epochs=1, clip=1e-4, noise=50.0, verbose=False) < 0.5


@pytest.mark.parametrize("script", ["chapter_nn.py", "digits_cnn.py", "char_lstm.py",
                                    "dp_sgd_digits.py"])
def test_examples_have_a_docstring_with_the_command(script):
    text = (pathlib.Path(__file__).resolve().parents[1] / "examples" / script).read_text()
    assert f"python examples/{script}" in text
