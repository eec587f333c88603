"""The generated docs match the code they are generated from."""
import importlib.util
import pathlib

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_operations", DOCS / "gen_operations.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_operations_page_is_generated_from_the_declarations():
    gen = _generator()
    assert gen.PAGE.read_text() == gen.render(), \
        "docs/operations.md is stale: run python docs/gen_operations.py"


def test_operations_page_lists_every_declared_op():
    from lightgrad.ops._core import DECLARED
    text = (DOCS / "operations.md").read_text()
    missing = [n for n in DECLARED if f"`{n}`" not in text and f"`Tensor.{n}`" not in text]
    assert not missing, missing
