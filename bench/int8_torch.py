"""PyTorch's dynamic int8 quantization side by side with bench/int8-gemm.ts: nn.Linear(n, n) at
batch n, float32 vs torch.ao.quantization.quantize_dynamic (qint8, fbgemm), one thread, best of
`reps`. Prints one JSON line: {"torch": version, "linear_f32_ms": …, "linear_int8_ms": …}.

    /usr/bin/python3 bench/int8_torch.py [n=512] [reps=15]
"""
import json
import sys
import time

import torch

n = int(sys.argv[1]) if len(sys.argv) > 1 else 512
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 15
torch.set_num_threads(1)
torch.manual_seed(0)
lin = torch.nn.Sequential(torch.nn.Linear(n, n)).eval()
q = torch.ao.quantization.quantize_dynamic(lin, {torch.nn.Linear}, dtype=torch.qint8)
x = torch.randn(n, n)


def best(f):
    f()
    b = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        b = min(b, (time.perf_counter() - t0) * 1000)
    return b


with torch.no_grad():
    f32 = best(lambda: lin(x))
    i8 = best(lambda: q(x))
print(json.dumps({'torch': torch.__version__, 'n': n, 'linear_f32_ms': f32, 'linear_int8_ms': i8}))
