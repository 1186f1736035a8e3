"""Open-loop load of the token-rate fake: the largest arrival rate an LLM-style endpoint sustains.

``bench/apps/token_rate.py`` (OpenAI chat chunks, POST, ``--rate`` chunks per second per stream,
``--slots`` generations at once) on CPU 0; ``sse-conformance load --profile openai-chat
--arrival-rate R`` on CPU 1 at increasing R, each for ``--duration`` seconds, until TTFT p99
exceeds ``--ttft-limit``. With 64 tokens at 20 per second (3.2 s a stream) and 64 slots the
fake sustains about 64 / 3.2 = 20 arrivals per second; past it, arrivals wait for a slot and
TTFT grows step by step. Prints the table, the largest sustainable rate and the generator's
own cost (CPU % and loop lag per step).

    python -m bench.open_loop [--rates 5,10,15,20,25,30] [--ttft-limit 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.generator_cost import ROOT, server
from bench.pinning import LOADGEN_CPU
from conformance.load.report import table, write_json, write_plot
from conformance.load.runner import LoadConfig, run_load_sync
from conformance.profiles import load_profile


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.open_loop", description=__doc__)
    p.add_argument("--rates", default="5,10,15,20,25,30")
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--ttft-limit", type=float, default=1000.0, help="ms")
    p.add_argument("--token-rate", type=float, default=20.0)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--slots", type=int, default=64)
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    args = p.parse_args(argv)
    try:
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        print(f"open_loop: error: --rates must be numbers: {args.rates!r}", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {LOADGEN_CPU})
    profile = load_profile("openai-chat")
    fake = ["-m", "bench.apps.token_rate", "--rate", str(args.token_rate),
            "--tokens", str(args.tokens), "--slots", str(args.slots)]  # fmt: skip
    load_before = os.getloadavg()[0]
    with server(fake) as port:
        config = LoadConfig(
            url=f"http://127.0.0.1:{port}/v1/chat/completions",
            steps=[1],
            arrival_rates=rates,
            hold=args.duration,
            timeout=30.0,
            ttft_limit=args.ttft_limit / 1000.0,
            method=profile.method,
            profile_headers=profile.headers,
            body=None if profile.body is None else profile.body.encode(),
        )
        report = run_load_sync(config)
    text = table(report)
    capacity = args.slots / (args.tokens / args.token_rate)
    text += (
        f"\nthe fake's capacity: {args.slots} slots / {args.tokens / args.token_rate:g} s a stream "
        f"= {capacity:g} arrivals/s; load average {load_before:.1f} before"
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "open_loop.txt").write_text(text + "\n", encoding="utf-8")
    write_json(report, args.out / "open_loop.json")
    with contextlib.suppress(ImportError):
        write_plot(report, args.out / "open_loop.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
