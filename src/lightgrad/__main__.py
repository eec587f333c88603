"""`python -m lightgrad`: the autograd chapter as a demo, and the runner for torch programs.

    python -m lightgrad                        the demo
    python -m lightgrad run SCRIPT [ARGS...]   run a torch script on lightgrad, unmodified
    python -m lightgrad -m MODULE [ARGS...]    run a module that way (`-m pytest tests/`)

The demo is the graph walk (what `backward()` will traverse), then the two-layer network
trained with gradients from autograd and updates by hand, printing the loss every 10 steps.
The runner installs `lightgrad.as_torch()` and then runs the script or module as `python
SCRIPT` / `python -m MODULE` would: `__main__`, `__file__`, `sys.argv` and `sys.path[0]`.
"""
import builtins
import os
import runpy
import sys
import types

import lightgrad as torch

USAGE = """usage: python -m lightgrad                       run the autograd demo
       python -m lightgrad run SCRIPT [ARGS...]  run a torch script on lightgrad
       python -m lightgrad -m MODULE [ARGS...]   run a torch module on lightgrad

SCRIPT and MODULE run unmodified: `import torch`, `import torch.X` and `from torch.X
import Y` give lightgrad's modules (lightgrad.as_torch()).
"""


def walk(node, depth=0):
    """Print the graph of backward nodes below `node`, one level per indent."""
    print("  " * depth + type(node).__name__)
    for child, _ in node.next_functions:
        if child is not None:
            walk(child, depth + 1)


def graph_walk():
    print("== The graph autograd records ==")
    x1 = torch.ones(2, 2, requires_grad=True)
    x2 = torch.tensor(1.1, requires_grad=True)
    y = x1 * (x2 + 2)
    y.retain_grad()
    z = y.pow(2) * 3
    z.retain_grad()
    out = z.mean()
    print("out.grad_fn:", out.grad_fn)
    level = out.grad_fn.next_functions
    depth = 1
    while level:
        print(f"level {depth}:", level)
        nodes = [n for n, _ in level if n is not None]
        level = tuple(e for n in nodes for e in n.next_functions)
        depth += 1
    print("\nThe same graph as a tree:")
    walk(out.grad_fn)
    out.backward()
    print("\nz.grad:", z.grad, "y.grad:", y.grad, "x2.grad:", x2.grad, "x1.grad:", x1.grad,
          sep="\n")


def two_layer_network(steps=200):
    print("\n== A two-layer network, gradients by autograd, updates by hand ==")
    torch.manual_seed(0)
    d_in, d_out, n, d_hidden = 3, 1, 100, 32
    x = torch.randn(n, d_in)
    y = (x[:, 0] * 0.2 - x[:, 1] * 1.3 - x[:, 2] * 0.5 + torch.randn(n)).unsqueeze(1)
    w1 = torch.randn(d_in, d_hidden, requires_grad=True)
    w2 = torch.randn(d_hidden, d_out, requires_grad=True)
    b1 = torch.zeros(1, d_hidden, requires_grad=True)
    b2 = torch.zeros(1, d_out, requires_grad=True)
    learning_rate = 1e-4
    for t in range(1, steps + 1):
        y_pred = x.mm(w1).add(b1).clamp(min=0).mm(w2).add(b2)
        loss = (y_pred - y).pow(2).mean()
        if t % 10 == 0:
            print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (w1, w2, b1, b2):
                p.sub_(learning_rate * p.grad)
            for p in (w1, w2, b1, b2):
                p.grad.zero_()
    return loss.item()


def run_script(path, args):
    """Run the file `path` as `python path args...` would, with torch = lightgrad: a fresh
    `__main__` module with an absolute `__file__`, argv[0] as given, the script's folder
    first on sys.path."""
    torch.as_torch()
    full = os.path.abspath(path)
    try:
        with open(full, "rb") as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write(f"python -m lightgrad run: can't open file {full!r}: [Errno {e.errno}] "
                         f"{e.strerror}\n")
        sys.exit(2)
    sys.argv = [path] + list(args)
    sys.path[0] = os.path.dirname(full)
    main = types.ModuleType("__main__")
    main.__file__ = full
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    exec(compile(source, full, "exec"), main.__dict__)


def run_module(name, args):
    """Run the module `name` as `python -m name args...` would, with torch = lightgrad."""
    torch.as_torch()
    sys.argv = [name] + list(args)       # run_module puts the module's file in argv[0]
    sys.path[0] = os.getcwd()
    runpy.run_module(name, run_name="__main__", alter_sys=True)


def main(argv):
    if not argv:
        graph_walk()
        two_layer_network()
    elif argv[0] in ("-h", "--help"):
        print(USAGE, end="")
    elif argv[0] == "run" and len(argv) > 1:
        run_script(argv[1], argv[2:])
    elif argv[0] == "-m" and len(argv) > 1:
        run_module(argv[1], argv[2:])
    else:
        sys.stderr.write(USAGE)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
