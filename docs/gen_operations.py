"""Write docs/operations.md from the op declarations (ops declared with `defop`), so the
list cannot drift from the code: tests/test_docs.py fails when the page is stale.
Run: python docs/gen_operations.py"""
import pathlib

PAGE = pathlib.Path(__file__).with_name("operations.md")

HEADER = """# Operations

Generated from the op declarations by `docs/gen_operations.py` (do not edit by hand). Each
row is one declared op: its public names (`lightgrad.<name>`), the Tensor methods and
operators it also is, the backward nodes it records (none: not differentiable), and how
vmap runs it. Families not yet moved onto `defop` are listed in docs/ARCHITECTURE.md.
"""


def _family_title(module):
    mod = __import__(module, fromlist=["_"])
    return (mod.__doc__ or module).strip().split("\n\n")[0].replace("\n", " ")


def render():
    import lightgrad.nn  # noqa: F401  (declares every op, nn.functional's too)
    from lightgrad.ops._core import DECLARED
    decls = list(dict.fromkeys(DECLARED.values()))
    out = [HEADER]
    for module in dict.fromkeys(d.module for d in decls):
        out.append(f"## {module.rsplit('.', 1)[1]}.py\n\n{_family_title(module)}\n")
        out.append("| op | also | nodes | vmap |\n|---|---|---|---|")
        for d in (d for d in decls if d.module == module):
            names = ", ".join(f"`{n}`" if d.function else f"`Tensor.{n}`" for n in d.names())
            also = (["method"] if any(n in d.methods for n in d.names()) else []) + [
                f"`{m}`" for m in d.methods if m not in d.names()] + [
                f"`{x}`" for x in d.dunders]
            nodes = ", ".join(c if isinstance(c, str) else c.__name__ for c in d.nodes) or "-"
            vmap = f"refused: {d.vmap_refused}" if d.vmap_refused else d.batch if \
                isinstance(d.batch, str) else d.batch.__name__.lstrip("_")
            out.append(f"| {names} | {' '.join(also) or '-'} | {nodes} | {vmap} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
