"""PyTorch's dynamic int8 quantization side by side with bench/int8-gemm.ts: nn.Linear(K, N) on an
(M, K) batch, float32 vs torch.ao.quantization.quantize_dynamic (qint8 weights; activations quint8
with reduce_range, fbgemm), one thread, median of `reps` after a warm-up call. Prints one JSON line:
{"torch": version, "shapes": [{"m", "k", "n", "linear_f32_ms", "linear_int8_ms"}, ...]}.

    /usr/bin/python3 bench/int8_torch.py ["M,K,N;M,K,N"=512,512,512] [reps=12]
"""
import json
import statistics
import sys
import time

import torch

shapes = [tuple(int(v) for v in s.split(',')) for s in (sys.argv[1] if len(sys.argv) > 1 else '512,512,512').split(';')]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 12
torch.set_num_threads(1)
torch.manual_seed(0)


out = []
with torch.no_grad():
    for m, k, n in shapes:
        lin = torch.nn.Sequential(torch.nn.Linear(k, n)).eval()
        q = torch.ao.quantization.quantize_dynamic(lin, {torch.nn.Linear}, dtype=torch.qint8)
        x = torch.randn(m, k)
        # interleave the two so that both see the same load
        f32, i8 = [], []
        lin(x), q(x)
        for _ in range(reps):
            for f, ts in ((lambda: lin(x), f32), (lambda: q(x), i8)):
                t0 = time.process_time()
                f()
                ts.append((time.process_time() - t0) * 1000)
        out.append({'m': m, 'k': k, 'n': n, 'linear_f32_ms': statistics.median(f32), 'linear_int8_ms': statistics.median(i8)})
print(json.dumps({'torch': torch.__version__, 'shapes': out}))
