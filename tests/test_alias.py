"""`lightgrad.as_torch()` and `python -m lightgrad run`: torch programs run unmodified.

Every case runs in a fresh interpreter, since the alias changes the process's imports. The
scripts run twice: in this venv (where the real torch may be installed, and must not be
picked up) and in an interpreter that cannot see torch at all.
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

SRC = str(pathlib.Path(__file__).resolve().parents[1] / "src")

# every import form a torch script uses; asserts that each one gives lightgrad's module
SCRIPT = """
import importlib
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data
from torch import optim
from torch.nn import Linear
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset
import lightgrad

mod = importlib.import_module("torch.nn.modules.linear")
assert torch is lightgrad, torch
assert nn is lightgrad.nn and F is lightgrad.nn.functional and optim is lightgrad.optim
assert torch.utils.data is lightgrad.utils.data and mod.Linear is Linear is nn.Linear
assert sys.modules["torch.nn.functional"] is F
assert isinstance(torch.ones(1), lightgrad.Tensor)
print("argv", sys.argv)
print("file", __file__)
print("path0", sys.path[0])
print("name", __name__)

torch.manual_seed(0)
ds = TensorDataset(torch.randn(16, 3), torch.randn(16, 1))
model = nn.Sequential(Linear(3, 8), nn.ReLU(), Linear(8, 1))
opt = optim.SGD(model.parameters(), lr=0.1)
sched = StepLR(opt, step_size=1)
for epoch in range(3):
    for x, y in DataLoader(ds, batch_size=4, shuffle=True):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
print("loss", type(loss).__module__, loss.grad_fn.name())
try:
    import torch.fx
except ModuleNotFoundError as e:
    print("missing", e.name, "|", e)
"""


def _run(args, cwd, env=None, python=(sys.executable,)):
    return subprocess.run([*python, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def no_torch(tmp_path):
    """(python command, env) for an interpreter without torch: site-packages mirrored by
    symlinks minus torch, lightgrad from src/, and no site processing."""
    import numpy
    site = pathlib.Path(numpy.__file__).parents[1]
    shadow = tmp_path / "site"
    shadow.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith(("torch", "functorch", "lightgrad",
                                              "__editable__")):
            (shadow / entry.name).symlink_to(entry)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(shadow)]))
    return (sys.executable, "-S"), env


def _check_script_output(out, script):
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["argv"] == repr(["train.py", "--epochs", "3"])
    assert lines["file"] == str(script)
    assert lines["path0"] == str(script.parent)
    assert lines["name"] == "__main__"
    assert lines["loss"] == "lightgrad._tensor MseLossBackward0"
    name, message = lines["missing"].split(" | ")
    assert name == "torch.fx"
    assert "lightgrad" in message and "lightgrad.fx" in message


def test_run_script_with_every_import_form(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    r = _run(["-m", "lightgrad", "run", "train.py", "--epochs", "3"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _check_script_output(r.stdout, script)


def test_run_script_without_torch_installed(tmp_path, no_torch):
    python, env = no_torch
    probe = _run(["-c", "import importlib.util as u; print(u.find_spec('torch'))"],
                 cwd=tmp_path, env=env, python=python)
    assert probe.stdout.strip() == "None", probe.stdout + probe.stderr
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    r = _run(["-m", "lightgrad", "run", "train.py", "--epochs", "3"], cwd=tmp_path, env=env,
             python=python)
    assert r.returncode == 0, r.stderr
    _check_script_output(r.stdout, script)


def test_run_module_as_python_dash_m(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "job.py").write_text(textwrap.dedent("""
        import sys
        import torch.nn.functional as F
        import torch
        print(__name__, __file__, sys.argv[1:], sys.path[0], __package__)
        print(F.relu(torch.tensor([-1.0, 2.0])))
    """))
    r = _run(["-m", "lightgrad", "-m", "pkg.job", "a", "-b"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.splitlines()
    assert first == f"__main__ {pkg / 'job.py'} ['a', '-b'] {tmp_path} pkg"
    assert second == "tensor([0., 2.])"


def test_pytest_runs_torch_tests_through_the_alias(tmp_path):
    (tmp_path / "test_t.py").write_text(textwrap.dedent("""
        import torch
        import lightgrad

        def test_it():
            assert torch is lightgrad
            x = torch.tensor(2.0, requires_grad=True)
            (x ** 3).backward()
            assert x.grad.item() == 12.0
    """))
    r = _run(["-m", "lightgrad", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_t.py"],
             cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_exit_status_and_exceptions_of_the_script_pass_through(tmp_path):
    (tmp_path / "fail.py").write_text("import sys\nimport torch\nsys.exit(3)\n")
    assert _run(["-m", "lightgrad", "run", "fail.py"], cwd=tmp_path).returncode == 3
    (tmp_path / "boom.py").write_text("raise ValueError('boom')\n")
    r = _run(["-m", "lightgrad", "run", "boom.py"], cwd=tmp_path)
    assert r.returncode == 1 and "ValueError: boom" in r.stderr
    r = _run(["-m", "lightgrad", "run", "missing.py"], cwd=tmp_path)
    assert r.returncode == 2 and "can't open file" in r.stderr and "missing.py" in r.stderr


def test_help_usage_and_the_demo(tmp_path):
    r = _run(["-m", "lightgrad", "--help"], cwd=tmp_path)
    assert r.returncode == 0 and "python -m lightgrad run SCRIPT" in r.stdout
    r = _run(["-m", "lightgrad", "frobnicate"], cwd=tmp_path)
    assert r.returncode == 2 and "usage:" in r.stderr
    r = _run(["-m", "lightgrad"], cwd=tmp_path)
    assert r.returncode == 0 and "The graph autograd records" in r.stdout


def test_as_torch_refuses_when_the_real_torch_is_imported(tmp_path):
    pytest.importorskip("torch")
    r = _run(["-c", "import torch, lightgrad; lightgrad.as_torch()"], cwd=tmp_path)
    assert r.returncode == 1
    assert "RuntimeError: lightgrad.as_torch(): the real torch is already imported" in r.stderr


def test_as_torch_in_process_is_idempotent_and_lazy(tmp_path):
    code = textwrap.dedent("""
        import sys
        import lightgrad
        assert lightgrad.as_torch() is lightgrad and lightgrad.as_torch() is lightgrad
        assert sum(type(f).__name__ == "TorchAliasFinder" for f in sys.meta_path) == 1
        assert "lightgrad.optim" not in sys.modules      # nothing imported until asked
        from torch.optim import Adam
        assert Adam is sys.modules["lightgrad.optim"].Adam
        import torch.serialization
        assert torch.serialization is lightgrad.serialization
        print("ok")
    """)
    r = _run(["-c", code], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


def test_serialization_is_an_attribute_before_any_save(tmp_path):
    r = _run(["-c", "import lightgrad; print(lightgrad.serialization.__name__)"], cwd=tmp_path)
    assert r.stdout == "lightgrad.serialization\n", r.stderr
