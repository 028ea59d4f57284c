# Issue #14 diagnosis: an independent post-LN BERT (HF BertForMaskedLM maths and names) in plain PyTorch, trained on
# the batches and initial weights that ts-run.ts dumped to out/diag; prints the loss and gradient norm every 25 steps.
import json, math, struct, sys, time, os
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(os.environ.get('THREADS', '1')))
m = json.load(open('out/diag/meta.json')); K, B, T, V = m['K'], m['B'], m['T'], m['V']; LR = float(os.environ.get('LR', m['LR']))
def load_st(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']; out[k] = torch.from_numpy(np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v['shape']).copy())
    return out
sd = load_st('out/diag/init.safetensors')
P = {k: nn.Parameter(v) for k, v in sd.items() if k not in ('cls.predictions.decoder.weight', 'cls.predictions.decoder.bias')}
Hd, NH = 128, 2; L = 4
def ln(x, p): return F.layer_norm(x, (Hd,), P[p + '.weight'], P[p + '.bias'], 1e-12)
def lin(x, p): return F.linear(x, P[p + '.weight'], P[p + '.bias'])
def forward(ids, am):
    x = P['bert.embeddings.word_embeddings.weight'][ids] + P['bert.embeddings.position_embeddings.weight'][:T] + P['bert.embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'bert.embeddings.LayerNorm')
    ext = (1.0 - am[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for l in range(L):
        p = f'bert.encoder.layer.{l}.'
        def heads(t): return t.view(B, T, NH, Hd // NH).permute(0, 2, 1, 3)
        q, k, v = heads(lin(x, p + 'attention.self.query')), heads(lin(x, p + 'attention.self.key')), heads(lin(x, p + 'attention.self.value'))
        s = q @ k.transpose(-1, -2) / math.sqrt(Hd // NH) + ext
        c = (s.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(B, T, Hd)
        x = ln(lin(c, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        h = F.gelu(lin(x, p + 'intermediate.dense'))
        x = ln(lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
    return x
def loss_fn(ids, am, lab):
    x = forward(ids, am).reshape(-1, Hd); lab = lab.reshape(-1); sel = lab != -100
    h = x[sel]; h = ln(F.gelu(lin(h, 'cls.predictions.transform.dense')), 'cls.predictions.transform.LayerNorm')
    logits = h @ P['bert.embeddings.word_embeddings.weight'].t() + P['cls.predictions.bias']
    return F.cross_entropy(logits, lab[sel])
ids = torch.from_numpy(np.fromfile('out/diag/ids.bin', dtype=np.int32).astype(np.int64)).view(K, B, T)
am = torch.from_numpy(np.fromfile('out/diag/am.bin', dtype=np.int32).astype(np.int64)).view(K, B, T)
lab = torch.from_numpy(np.fromfile('out/diag/lab.bin', dtype=np.int32).astype(np.int64)).view(K, B, T)
decay = [p for k, p in P.items() if not (k.endswith('.bias') or 'LayerNorm' in k)]
rest = [p for k, p in P.items() if (k.endswith('.bias') or 'LayerNorm' in k)]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': rest, 'weight_decay': 0.0}], lr=LR, betas=(0.9, 0.999), eps=float(os.environ.get('EPS', '1e-8')))
W = round(0.05 * K)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / max(1, W) if s < W else max(0.0, (K - s) / max(1, K - W)))
losses = []; t0 = time.time()
for k in range(K):
    opt.zero_grad(); l = loss_fn(ids[k], am[k], lab[k]); l.backward()
    gn = torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0); opt.step(); sched.step(); losses.append(l.item())
    if k % 25 == 0: print(k, round(l.item(), 4), round(gn.item(), 3), f'{(time.time()-t0)/(k+1)*1000:.0f} ms/step', file=sys.stderr, flush=True)
json.dump(losses, open(f'out/diag/torch_losses_{LR}.json', 'w'))
