"""torch.backends.cuda: lightgrad has no CUDA backend. `matmul.allow_tf32` and the other
matmul flags are plain attributes with torch's defaults."""


class _MatmulFlags:
    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built():
    return False
