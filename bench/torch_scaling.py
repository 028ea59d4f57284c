"""PyTorch peer worker for bench/scaling.ts: a long-lived process that times workloads on request,
so that the bench can interleave rounds (tensorgrad, torch, tensorgrad, torch, ...) and take the
median of per-round medians — noise from other processes then hits every peer alike.

Protocol: one JSON object per line on stdin, one JSON line per request on stdout.
    {"spec": {...}, "threads": 2, "warmup": 1, "runs": 3}  ->  {"samples_ms": [...], "torch": "1.13.1", "threads": 2}
    {"quit": true}
Specs (the same as bench/scaling.ts builds for tensorgrad):
    {"kind": "bert", "vocab", "hidden", "layers", "heads", "ffn", "labels", "batch", "seq", "what": "train"|"forward"}
        bench/torch_bert.py's BERT (HF modeling_bert module for module), dropout 0.1 in training,
        AdamW(lr 1e-3, weight decay 0.01); one training step or one no_grad forward
    {"kind": "gpt", "vocab", "layers", "heads", "embd", "block", "batch", "prompt", "new"}
        a nanoGPT-style GPT-2 (pre-LN, GELU tanh, tied head) in eval/no_grad: prefill `prompt`
        tokens, then `new` greedy decode steps with a key/value cache (one token per step)
    {"kind": "mm", "n"}  an n×n·n×n float32 matmul
Exits with status 3 (and a message on stderr) when torch cannot be imported.
"""
import json
import math
import os
import statistics  # noqa: F401 - kept for symmetry with torch_bert.py
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import torch
except Exception as e:  # noqa: BLE001
    print(f"cannot import torch: {e}", file=sys.stderr)
    sys.exit(3)

import torch_bert as tb  # noqa: E402

F = torch.nn.functional
cache = {}


def set_bert_globals(s):
    # torch_bert.py's model reads its sizes from module globals (also at forward time)
    tb.VOCAB, tb.HIDDEN, tb.LAYERS, tb.HEADS, tb.FFN, tb.LABELS = s["vocab"], s["hidden"], s["layers"], s["heads"], s["ffn"], s["labels"]
    tb.MAX_POS = max(512, s["seq"])


def bert(s):
    key = json.dumps(s, sort_keys=True)
    set_bert_globals(s)
    if key not in cache:
        torch.manual_seed(0)
        model = tb.build(torch, 0.1)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
        B, T = s["batch"], s["seq"]
        ids = torch.randint(1, s["vocab"], (B, T))
        tt = torch.zeros(B, T, dtype=torch.long)
        pos = torch.arange(T).unsqueeze(0)
        labels = torch.randint(0, s["labels"], (B, T))

        def train():
            model.train()
            logits = model(ids, tt, pos)
            loss = F.cross_entropy(logits.reshape(-1, s["labels"]), labels.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()

        def forward():
            model.eval()
            with torch.no_grad():
                model(ids, tt, pos)

        cache[key] = train if s["what"] == "train" else forward
    return cache[key]


def gpt(s):
    key = json.dumps(s, sort_keys=True)
    if key in cache:
        return cache[key]
    nn = torch.nn
    C, nh, L = s["embd"], s["heads"], s["layers"]
    hs = C // nh

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x, kv):
            B, T, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            heads = lambda t: t.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
            q, k, v = heads(q), heads(k), heads(v)
            if kv[0] is not None:
                k, v = torch.cat([kv[0], k], 2), torch.cat([kv[1], v], 2)
            kv[0], kv[1] = k, v
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, P+T)
            if T > 1:
                P = k.shape[2] - T
                mask = torch.ones(T, P + T, dtype=torch.bool).tril(P)
                att = att.masked_fill(~mask, float("-inf"))
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + self.c_proj(y)
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(s["vocab"], C), nn.Embedding(s["block"], C)
            self.h = nn.ModuleList([Block() for _ in range(L)])
            self.ln_f = nn.LayerNorm(C)

        def forward(self, idx, pos0, kvs):
            T = idx.shape[1]
            x = self.wte(idx) + self.wpe(torch.arange(pos0, pos0 + T).unsqueeze(0))
            for b, kv in zip(self.h, kvs):
                x = b(x, kv)
            return (self.ln_f(x) @ self.wte.weight.t())[:, -1, :]  # logits (B, T, vocab) as tensorgrad's GPT, then the last position's

    torch.manual_seed(0)
    model = GPT().eval()
    prompt = torch.randint(0, s["vocab"], (s["batch"], s["prompt"]))

    def decode():
        with torch.no_grad():
            kvs = [[None, None] for _ in range(L)]
            logits = model(prompt, 0, kvs)
            for i in range(s["new"]):
                nxt = logits.argmax(-1, keepdim=True)  # (B, 1) greedy
                logits = model(nxt, s["prompt"] + i, kvs)

    cache[key] = decode
    return decode


def mm(s):
    n = s["n"]
    a, b = torch.randn(n, n), torch.randn(n, n)
    return lambda: torch.mm(a, b)


def main():
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("quit"):
            break
        torch.set_num_threads(req.get("threads", 2))
        s = req["spec"]
        fn = {"bert": bert, "gpt": gpt, "mm": mm}[s["kind"]](s)
        if s["kind"] == "bert":
            set_bert_globals(s)
        for _ in range(req.get("warmup", 1)):
            fn()
        samples = []
        for _ in range(req.get("runs", 3)):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({"samples_ms": samples, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
