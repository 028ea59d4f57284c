# Issue #14 diagnosis: short pre-training recipes compared in PyTorch (same model as torch-reference.py), on the
# chunks of chunks.ts (out/diag/chunks.bin). Settings from the environment: LR B T STEPS WARM PMASK DROP INIT BETA2 PESTD TAG.
import json, math, sys, time, os
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(os.environ.get('THREADS', '1'))); torch.manual_seed(int(os.environ.get('SEED', '0')))
E = lambda k, d: type(d)(os.environ.get(k, d))
LR, B, T, STEPS, WARM = E('LR', 1e-3), E('B', 16), E('T', 128), E('STEPS', 600), E('WARM', 30)
P_MASK, DROP, INIT, L, Hd, NH, DECAY = E('PMASK', 0.15), E('DROP', 0.0), E('INIT', 0.02), E('L', 4), E('H', 128), E('NH', 2), E('DECAY', 'none')
TAG = os.environ.get('TAG', 'x')
meta = json.load(open('out/diag/vocab.json')); V = len(meta['cont']); cont = np.array(meta['cont'], bool); special = set(meta['special'])
chunks = np.fromfile('out/diag/chunks.bin', dtype=np.int32).reshape(-1, 128)
ev_chunks, tr_chunks = chunks[:128], chunks[128:]
rng = np.random.default_rng(1)
def split(c):  # a 128-chunk → pieces of length T: [CLS] body [SEP]
    body = c[(c != 0)][1:-1]
    if T >= 128: return [c[c != 0]]
    n = T - 2; return [np.concatenate([[meta['cls']], body[i:i + n], [meta['sep']]]) for i in range(0, len(body), n) if len(body[i:i + n]) > 4]
def mask(seq, r):
    ids = seq.copy(); lab = np.full(len(seq), -100)
    cand = [i for i, t in enumerate(seq) if t not in special]
    units = []
    for i in cand:
        if units and cont[seq[i]] and units[-1][-1] == i - 1: units[-1].append(i)
        else: units.append([i])
    n = max(1, round(len(cand) * P_MASK)); chosen = []
    for u in r.permutation(len(units)):
        u = units[u]
        if len(chosen) + len(u) > n: continue
        chosen += u
        if len(chosen) >= n: break
    for i in chosen:
        lab[i] = seq[i]; x = r.random()
        if x < 0.8: ids[i] = meta['mask']
        elif x < 0.9:
            t = r.integers(0, V)
            while t in special: t = r.integers(0, V)
            ids[i] = t
    return ids, lab
def batch(seqs, r):
    ids = np.zeros((len(seqs), T), np.int64); lab = np.full((len(seqs), T), -100); am = np.zeros((len(seqs), T), np.int64)
    for j, s in enumerate(seqs):
        a, l = mask(s, r); ids[j, :len(s)] = a; lab[j, :len(s)] = l; am[j, :len(s)] = 1
    return torch.from_numpy(ids), torch.from_numpy(am), torch.from_numpy(lab)
ev_seqs = [p for c in ev_chunks for p in split(c)][:256]
er = np.random.default_rng(7); ev = [batch(ev_seqs[i:i + 32], er) for i in range(0, len(ev_seqs), 32)]
def p(*s): return nn.Parameter(torch.randn(*s) * INIT)
def sinus(n, d):
    pos = torch.arange(n)[:, None].float(); i = torch.arange(0, d, 2).float()
    ang = pos / torch.pow(10000.0, i / d); pe = torch.zeros(n, d); pe[:, 0::2] = torch.sin(ang); pe[:, 1::2] = torch.cos(ang); return pe
PESTD = E('PESTD', 0.0)
P = {'we': p(V, Hd), 'pe': nn.Parameter(sinus(T, Hd) * (PESTD / 0.7071)) if PESTD > 0 else p(T, Hd), 'te': p(Hd), 'eln.w': nn.Parameter(torch.ones(Hd)), 'eln.b': nn.Parameter(torch.zeros(Hd))}
for l in range(L):
    for n, (o, i) in {'q': (Hd, Hd), 'k': (Hd, Hd), 'v': (Hd, Hd), 'o': (Hd, Hd), 'f1': (4 * Hd, Hd), 'f2': (Hd, 4 * Hd)}.items():
        P[f'{l}.{n}.w'] = p(o, i); P[f'{l}.{n}.b'] = nn.Parameter(torch.zeros(o))
    for n in ('ln1', 'ln2'): P[f'{l}.{n}.w'] = nn.Parameter(torch.ones(Hd)); P[f'{l}.{n}.b'] = nn.Parameter(torch.zeros(Hd))
P['t.w'] = p(Hd, Hd); P['t.b'] = nn.Parameter(torch.zeros(Hd)); P['tln.w'] = nn.Parameter(torch.ones(Hd)); P['tln.b'] = nn.Parameter(torch.zeros(Hd)); P['ob'] = nn.Parameter(torch.zeros(V))
def ln(x, k): return F.layer_norm(x, (Hd,), P[k + '.w'], P[k + '.b'], 1e-12)
def lin(x, k): return F.linear(x, P[k + '.w'], P[k + '.b'])
def dr(x, train): return F.dropout(x, DROP, train) if DROP > 0 else x
def run(ids, am, lab, train):
    Bn = ids.shape[0]
    x = dr(ln(P['we'][ids] + P['pe'][:T] + P['te'], 'eln'), train)
    ext = (1.0 - am[:, None, None, :].float()) * -1e30
    for l in range(L):
        hd = lambda t: t.view(Bn, T, NH, Hd // NH).permute(0, 2, 1, 3)
        q, k, v = hd(lin(x, f'{l}.q')), hd(lin(x, f'{l}.k')), hd(lin(x, f'{l}.v'))
        a = dr((q @ k.transpose(-1, -2) / math.sqrt(Hd // NH) + ext).softmax(-1), train)
        c = (a @ v).permute(0, 2, 1, 3).reshape(Bn, T, Hd)
        x = ln(dr(lin(c, f'{l}.o'), train) + x, f'{l}.ln1')
        x = ln(dr(lin(F.gelu(lin(x, f'{l}.f1')), f'{l}.f2'), train) + x, f'{l}.ln2')
    x = x.reshape(-1, Hd); lab = lab.reshape(-1); sel = lab != -100
    h = ln(F.gelu(lin(x[sel], 't')), 'tln'); logits = h @ P['we'].t() + P['ob']
    y = lab[sel]; ctx = ids.reshape(-1)[sel] != y  # positions where the input does not show the answer
    return F.cross_entropy(logits, y), logits, y, ctx
decay = [v for k, v in P.items() if k.endswith('.w') and 'ln' not in k] + [P['we'], P['pe']]
rest = [v for k, v in P.items() if not any(v is d for d in decay)]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': rest, 'weight_decay': 0.0}], lr=LR, betas=(0.9, E('BETA2', 0.999)))
def lr_at(s):
    if s < WARM: return s / WARM
    return max(0.0, (STEPS - s) / (STEPS - WARM)) if DECAY == 'linear' else 1.0
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
def evaluate():
    with torch.no_grad():
        ls, n, c, lc, nc, cc = 0, 0, 0, 0, 0, 0
        for ids, am, lab in ev:
            loss, logits, y, ctx = run(ids, am, lab, False)
            lp = F.cross_entropy(logits, y, reduction='none'); ok = logits.argmax(-1) == y
            ls += lp.sum().item(); n += len(y); c += ok.sum().item(); lc += lp[ctx].sum().item(); nc += ctx.sum().item(); cc += ok[ctx].sum().item()
    return ls / n, c / n, lc / nc, cc / nc
r = np.random.default_rng(3); pool = []; ci = 0; t0 = time.time(); tokens = 0
for s in range(STEPS + 1):
    if s % 100 == 0:
        l, a, lc, ac = evaluate(); print(f'{TAG} step {s} tokens {tokens/1e6:.2f}M eval loss {l:.3f} acc {a:.3f} | ctx-only loss {lc:.3f} acc {ac:.3f}  {time.time()-t0:.0f}s', flush=True)
    if s == STEPS: break
    while len(pool) < B:
        pool += split(tr_chunks[ci % len(tr_chunks)]); ci += 1
    seqs, pool = pool[:B], pool[B:]; tokens += sum(len(x) for x in seqs)
    ids, am, lab = batch(seqs, r)
    opt.zero_grad(); loss = run(ids, am, lab, True)[0]; loss.backward(); torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0); opt.step(); sched.step()
