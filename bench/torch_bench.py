"""PyTorch peer for bench/run.ts: float32 n×n matmul, median of timed runs after warm-up.

    /usr/bin/python3 bench/torch_bench.py --sizes 128,256,512,1024 --warmup 2 --warmup-ms 400 \
        --runs 7 --min-time-ms 400 --max-runs 100 --threads 2

Prints one JSON object on stdout:
    {"torch": "<version>", "threads": 2, "matmul": [{"n": 128, "median_ms": ..., "samples_ms": [...]}, ...]}
Exits with status 3 (and a message on stderr) when torch cannot be imported.
"""
import argparse
import json
import statistics
import sys
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="128,256,512,1024")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--warmup-ms", type=float, default=400.0)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--min-time-ms", type=float, default=400.0)
    p.add_argument("--max-runs", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "no peer"
        print(f"cannot import torch: {e}", file=sys.stderr)
        sys.exit(3)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "matmul": []}
    with torch.no_grad():
        for n in [int(s) for s in args.sizes.split(",") if s]:
            a = torch.randn(n, n, dtype=torch.float32)
            b = torch.randn(n, n, dtype=torch.float32)
            # the same policy as bench/harness.ts timeSync
            w0 = time.perf_counter()
            i = 0
            while i < args.warmup or (time.perf_counter() - w0) * 1e3 < args.warmup_ms:
                torch.matmul(a, b)
                i += 1
            samples = []
            while len(samples) < max(5, args.runs) or (sum(samples) < args.min_time_ms and len(samples) < args.max_runs):
                t0 = time.perf_counter()
                torch.matmul(a, b)
                samples.append((time.perf_counter() - t0) * 1e3)
            out["matmul"].append({"n": n, "median_ms": statistics.median(samples), "samples_ms": samples})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
