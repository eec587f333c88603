"""`python -m lightgrad`: the autograd chapter as a demo.

First the graph walk (what `backward()` will traverse), then the two-layer network trained
with gradients from autograd and updates by hand, printing the loss every 10 steps.
"""
import lightgrad as torch


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


if __name__ == "__main__":
    graph_walk()
    two_layer_network()
