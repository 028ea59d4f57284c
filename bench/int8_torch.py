"""PyTorch's dynamic int8 quantization side by side with bench/int8-gemm.ts: nn.Linear(K, N) on an
(M, K) batch, float32 vs torch.ao.quantization.quantize_dynamic (qint8 weights; activations quint8
with reduce_range, fbgemm), one thread, median of `reps` after a warm-up call; and the BERT
token-classification forward of bench/torch_bert.py (the same module layout as tensorgrad's) at the
sizes bench/int8-gemm.ts times, float32 vs every nn.Linear quantized. Prints one JSON line:
{"torch": version, "shapes": [{"m", "k", "n", "linear_f32_ms", "linear_int8_ms"}, ...],
 "berts": [{"layers", "hidden", "ffn", "batch", "seq", "f32_ms", "int8_ms"}, ...]}.

    /usr/bin/python3 bench/int8_torch.py ["M,K,N;M,K,N"=512,512,512] [reps=12] ["L,H,FFN,B,T;…"]
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

# the BERT forward: bench/torch_bert.py's model (module-level sizes set per configuration), eval, no dropout
sys.path.insert(0, __file__.rsplit('/', 1)[0])
import torch_bert as tb  # noqa: E402

berts = []
for spec in (sys.argv[3] if len(sys.argv) > 3 else '').split(';'):
    if not spec:
        continue
    layers, hidden, ffn, batch, seq = (int(v) for v in spec.split(','))
    tb.LAYERS, tb.HIDDEN, tb.FFN, tb.HEADS = layers, hidden, ffn, hidden // 64
    torch.manual_seed(0)
    model = tb.build(torch, 0.0).eval()
    qmodel = torch.ao.quantization.quantize_dynamic(tb.build(torch, 0.0).eval(), {torch.nn.Linear}, dtype=torch.qint8)
    ids = torch.randint(1, tb.VOCAB, (batch, seq))
    tt = torch.zeros(batch, seq, dtype=torch.long)
    pos = torch.arange(seq).unsqueeze(0)  # (1, T)
    f32, i8 = [], []
    with torch.no_grad():
        model(ids, tt, pos), qmodel(ids, tt, pos)
        for _ in range(reps):
            for f, ts in ((lambda: model(ids, tt, pos), f32), (lambda: qmodel(ids, tt, pos), i8)):
                t0 = time.process_time()
                f()
                ts.append((time.process_time() - t0) * 1000)
    berts.append({'layers': layers, 'hidden': hidden, 'ffn': ffn, 'batch': batch, 'seq': seq, 'f32_ms': statistics.median(f32), 'int8_ms': statistics.median(i8)})
print(json.dumps({'torch': torch.__version__, 'shapes': out, 'berts': berts}))
