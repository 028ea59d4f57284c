"""PyTorch peer for bench/bert.ts: BERT-tiny token classification, one training step and one
forward pass, median of timed runs after warm-up (the policy of bench/harness.ts timeSync).

    /usr/bin/python3 bench/torch_bert.py --what both --warmup 2 --warmup-ms 400 --runs 7 --min-time-ms 400 \
        --max-runs 100 --threads 2 --dropout 0.1

The model, written with torch.nn so that it is the same as tensorgrad's BertForTokenClassification
(HuggingFace modeling_bert.py) module for module:
    vocab 1000, hidden 128, 2 layers, 2 heads, FFN 512, GELU (exact erf form, F.gelu's default),
    LayerNorm eps 1e-12, post-LN blocks, learned position (512) and token-type (2) embeddings,
    dropout (embeddings, attention probabilities, both residual branches, before the classifier),
    a Linear head with 9 labels, init N(0, 0.02) with zero biases;
    batch 16 × seq 64 = 1024 tokens, no attention mask (every token attended), token types 0,
    cross-entropy over all 1024 tokens, torch.optim.AdamW(lr 1e-3, weight_decay 0.01) on every
    parameter.

Prints one JSON object on stdout:
    {"torch": "<version>", "threads": 2, "params": N,
     "train": {"median_ms": ..., "samples_ms": [...]}, "forward": {...}, "loss_first": x, "loss_last": y}
(train / forward only as asked with --what; loss_first/last are the first and last training step's loss,
warm-up included).
Exits with status 3 (and a message on stderr) when torch cannot be imported.
"""
import argparse
import json
import math
import statistics
import sys
import time

VOCAB, HIDDEN, LAYERS, HEADS, FFN, LABELS = 1000, 128, 2, 2, 512, 9
MAX_POS, TYPE_VOCAB, LN_EPS, INIT_STD = 512, 2, 1e-12, 0.02
BATCH, SEQ = 16, 64


def build(torch, dropout: float):
    nn = torch.nn
    F = torch.nn.functional

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(VOCAB, HIDDEN, padding_idx=0)
            self.position_embeddings = nn.Embedding(MAX_POS, HIDDEN)
            self.token_type_embeddings = nn.Embedding(TYPE_VOCAB, HIDDEN)
            self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
            self.dropout = nn.Dropout(dropout)

        def forward(self, ids, tt, pos):
            e = self.word_embeddings(ids) + self.token_type_embeddings(tt) + self.position_embeddings(pos)
            return self.dropout(self.LayerNorm(e))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(HIDDEN, HIDDEN)
            self.key = nn.Linear(HIDDEN, HIDDEN)
            self.value = nn.Linear(HIDDEN, HIDDEN)
            self.attn_dropout = nn.Dropout(dropout)
            self.attn_out = nn.Linear(HIDDEN, HIDDEN)
            self.attn_ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)
            self.intermediate = nn.Linear(HIDDEN, FFN)
            self.out = nn.Linear(FFN, HIDDEN)
            self.out_ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)
            self.dropout = nn.Dropout(dropout)

        def forward(self, h):
            B, T, H = h.shape
            hs = H // HEADS

            def split(x):  # (B, T, H) -> (B, nh, T, hs)
                return x.view(B, T, HEADS, hs).permute(0, 2, 1, 3)

            q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)  # (B, nh, T, T)
            probs = self.attn_dropout(torch.softmax(scores, dim=-1))
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, H)  # (B, T, H)
            a = self.attn_ln(self.dropout(self.attn_out(ctx)) + h)
            f = F.gelu(self.intermediate(a))  # exact erf form (approximate='none')
            return self.out_ln(self.dropout(self.out(f)) + a)

    class BertTiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings()
            self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(HIDDEN, LABELS)
            self.apply(self._init)

        @staticmethod
        def _init(m):
            if isinstance(m, nn.Linear):
                m.weight.data.normal_(0.0, INIT_STD)
                m.bias.data.zero_()
            elif isinstance(m, nn.Embedding):
                m.weight.data.normal_(0.0, INIT_STD)
                if m.padding_idx is not None:
                    m.weight.data[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                m.weight.data.fill_(1.0)
                m.bias.data.zero_()

        def forward(self, ids, tt, pos):
            h = self.embeddings(ids, tt, pos)
            for layer in self.layers:
                h = layer(h)
            return self.classifier(self.dropout(h))  # (B, T, LABELS)

    return BertTiny()


def time_it(fn, a):
    """bench/harness.ts timeSync: warm-up runs (and warm-up time), then ≥ 5 timed runs."""
    w0 = time.perf_counter()
    i = 0
    while i < a.warmup or (time.perf_counter() - w0) * 1e3 < a.warmup_ms:
        fn()
        i += 1
    samples = []
    while len(samples) < max(5, a.runs) or (sum(samples) < a.min_time_ms and len(samples) < a.max_runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(samples), "samples_ms": samples}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--warmup-ms", type=float, default=400.0)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--min-time-ms", type=float, default=400.0)
    p.add_argument("--max-runs", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--what", choices=["train", "forward", "both"], default="both")
    a = p.parse_args()
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "no peer"
        print(f"cannot import torch: {e}", file=sys.stderr)
        sys.exit(3)

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(torch, a.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    ids = torch.randint(1, VOCAB, (BATCH, SEQ))  # 1..V-1: no padding token
    tt = torch.zeros(BATCH, SEQ, dtype=torch.long)
    pos = torch.arange(SEQ).unsqueeze(0)  # (1, T)
    labels = torch.randint(0, LABELS, (BATCH, SEQ))
    losses = []

    def train_step():
        logits = model(ids, tt, pos)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, LABELS), labels.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    def forward():
        with torch.no_grad():
            model(ids, tt, pos)

    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(q.numel() for q in model.parameters()),
        "dropout": a.dropout,
    }
    if a.what in ("train", "both"):
        model.train()
        out["train"] = time_it(train_step, a)
        out["loss_first"] = losses[0]
        out["loss_last"] = losses[-1]
        out["steps"] = len(losses)
    if a.what in ("forward", "both"):
        model.eval()
        out["forward"] = time_it(forward, a)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
