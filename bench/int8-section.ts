/**
 * The int8 section of `npm run bench` (issue #16): bench/int8-gemm.ts in a child process (one
 * thread, interleaved rounds, CPU time; BENCH_QUICK=1: 256³ and 4 rounds instead of 512³ and 12),
 * its numbers turned into one table — int8 vs float32 for the GEMM at n³, the Linear at BERT
 * shapes and the BERT token-classification forward, side by side with PyTorch's float32 and
 * `quantize_dynamic` (bench/int8_torch.py; skipped with a note where /usr/bin/python3 has no torch).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK, type Section, type SectionResult } from './harness.js';

interface Int8Report {
  node: string; rounds: number; load: string; path: string; n: number; torch: string | null; torchSkipped: string | null;
  gemm: { name: string; medianMs: number; gops: number; vsF32: number }[];
  linears: { shape: string; f32Ms: number; int8Ms: number; torchF32Ms: number | null; torchInt8Ms: number | null }[];
  berts: { name: string; f32Ms: number; int8Ms: number; torchF32Ms: number | null; torchInt8Ms: number | null }[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const int8Section: Section = {
  id: 'int8',
  title: 'int8 dynamic quantization vs float32 (one thread), side by side with PyTorch quantize_dynamic',
  async run(): Promise<SectionResult> {
    const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-int8-'));
    const json = path.join(dir, 'int8.json');
    const n = QUICK ? 256 : 512, rounds = QUICK ? 4 : 12;
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'int8-gemm.ts'), String(n), String(rounds), '--json', json], {
      encoding: 'utf8', timeout: 900_000, env: { ...process.env, TENSORGRAD_NUM_THREADS: '1' },
    });
    const base = { id: 'int8', title: int8Section.title };
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      return { ...base, status: 'skipped', columns: [], rows: [], notes: [`bench/int8-gemm.ts failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`] };
    }
    const rep = JSON.parse(readFileSync(json, 'utf8')) as Int8Report;
    rmSync(dir, { recursive: true, force: true });
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? `${(a / b).toFixed(2)}×` : '—');
    const f32 = rep.gemm[0]!;
    const int8 = rep.gemm[1]!;
    const rows: (string | number | null)[][] = [
      [`GEMM ${n}³ (${int8.name})`, f32.medianMs, int8.medianMs, ratio(f32.medianMs, int8.medianMs), null, null, '—'],
      ...rep.linears.map((l) => [`Linear ${l.shape}`, l.f32Ms, l.int8Ms, ratio(l.f32Ms, l.int8Ms), l.torchF32Ms, l.torchInt8Ms, ratio(l.torchF32Ms, l.torchInt8Ms)]),
      ...rep.berts.map((b) => [`${b.name} forward`, b.f32Ms, b.int8Ms, ratio(b.f32Ms, b.int8Ms), b.torchF32Ms, b.torchInt8Ms, ratio(b.torchF32Ms, b.torchInt8Ms)]),
    ];
    const notes = [
      `median CPU ms of ${rep.rounds} interleaved rounds after a warm-up round, one thread, int8 path '${rep.path}' (7-bit activations, per-channel int8 weights; bit-exact to the integer reference); load average at the end ${rep.load}`,
      rep.torch ? `PyTorch ${rep.torch}: nn.Linear / the same BERT (bench/torch_bert.py's modules) in float32 vs torch.ao.quantization.quantize_dynamic (qint8, fbgemm), one thread` : `PyTorch: skipped (${rep.torchSkipped})`,
      `targets (issue #16): int8 faster than float32 (met where the ratio is > 1×); the int8 GEMM ≥ 2× at 512³ and the quantized BERT forward ≥ 1.5× — see the ratios; the README's Compression section says why WebAssembly SIMD128 bounds them`,
      ...rep.gemm.slice(2).map((g) => `${g.name}: ${g.medianMs.toFixed(2)} ms (${g.vsF32.toFixed(2)}× float32)`),
    ];
    return { ...base, status: 'ok', columns: ['workload', 'tensorgrad f32 ms', 'tensorgrad int8 ms', 'int8 speed-up', 'PyTorch f32 ms', 'PyTorch int8 ms', 'PyTorch speed-up'], rows, notes, data: rep };
  },
};
