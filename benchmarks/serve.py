"""Load benchmark of ``sentiment-rnn serve``: HTTP requests/s and latency against the in-process engine.

In one run, on loopback only:
  1. starts ``sentiment-rnn serve --model DIR --port 0`` as a child process;
  2. for 1, 16 and 64 concurrent clients (--clients), for --seconds each,
     sends single-text and then 100-text ``POST /predict`` requests on
     keep-alive connections with ``wrk`` (a compiled load generator:
     ``apt-get install wrk``), the bodies cycling over the held-out
     sentences of the built-in corpus (``data/heldout.csv``);
  3. reports requests/s, texts/s, p50/p95/p99 latency, errors (connection
     errors, timeouts and non-2xx answers), and the server's peak resident
     memory (``VmHWM`` in ``/proc/PID/status``);
  4. beside it, the in-process throughput of ``inference.predict`` on the
     same texts, one text per call and 100 per call, so the HTTP overhead is
     visible.

The load generator shares the machine's cores with the server. Every phase is
bounded in time (--seconds), and the whole run in count (6 phases).

Usage:
    python benchmarks/serve.py --model my-model [--seconds 30] [--clients 1,16,64]
        [--out benchmarks/results/serve.md]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 100  # texts per request in the batched phase
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50": %d, "p95": %d, "p99": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def heldout_texts() -> list[str]:
    with (ROOT / "data" / "heldout.csv").open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def lua_string(text: str) -> str:
    """A Lua string literal for ``text`` (every byte escaped as decimal, so any content is safe)."""
    return '"' + "".join(f"\\{byte}" for byte in text.encode("utf-8")) + '"'


def wrk_script(bodies: list[str]) -> str:
    """A wrk script: POST /predict, each request the next body of ``bodies`` (per thread)."""
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"', "local bodies = {"]
    lines += [f"  {lua_string(body)}," for body in bodies]
    lines += [
        "}",
        "local i = 0",
        "request = function()",
        "  i = i % #bodies + 1",
        "  return wrk.format(nil, nil, nil, bodies[i])",
        "end",
        WRK_DONE,
    ]
    return "\n".join(lines)


def bodies_for(texts: list[str], per_request: int) -> list[str]:
    if per_request == 1:
        return [json.dumps({"texts": [text]}) for text in texts]
    return [
        json.dumps({"texts": [texts[(start + k) % len(texts)] for k in range(per_request)]})
        for start in range(0, len(texts), 10)
    ]


def run_wrk(url: str, script: Path, clients: int, seconds: float) -> dict:
    threads = min(clients, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    figures = json.loads(line.removeprefix("RESULT "))
    figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, in seconds (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_process(model_dir: str, texts: list[str], seconds: float) -> dict[str, float]:
    """texts/s of ``inference.predict`` in this process, one text per call and ``BATCH`` per call."""
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.inference import predict

    directory = open_model_dir(model_dir)
    predict(directory, texts)  # loads the engine
    rates = {}
    for per_call in (1, BATCH):
        batches = [[texts[(s + k) % len(texts)] for k in range(per_call)] for s in range(0, len(texts), 10)]
        done, start, i = 0, time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            predict(directory, batches[i % len(batches)])
            done += per_call
            i += 1
        rates[per_call] = done / (time.perf_counter() - start)
    return rates


def start_server(model_dir: str) -> tuple[subprocess.Popen, str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_rnn", "serve", "--model", model_dir, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = process.stdout.readline()
    ready = time.perf_counter() - started
    if " at http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    return process, url, ready


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (`nproc`), {model} (`lscpu` model name), Python {platform.python_version()}"


def report(args, rows, engine, memory, ready, load_before, load_after, command) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Serve: HTTP load against the in-process engine",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}; the load generator (`wrk`) runs on the same cores",
        f"- Load average before / after the run: {load_before:.1f} / {load_after:.1f} (1 min)",
        f"- Model: `{args.model}` (`inspect` it for the architecture)",
        f"- Command: `{command}`",
        f"- Server: `sentiment-rnn serve --model {args.model} --port 0` (one uvicorn process; "
        f"ready to serve {ready:.2f} s after it was started), peak resident memory {memory:.0f} MB (`VmHWM`)",
        f"- Texts: the {args.n_texts} sentences of `data/heldout.csv`, cycled; each phase {args.seconds:g} s of "
        "`wrk` on keep-alive connections (2 threads, 1 for one client)",
        "",
        "| request | clients | requests/s | texts/s | p50 | p95 | p99 | errors | server CPU per request |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for per_request, clients, r in rows:
        lines.append(
            f"| {per_request} text{'s' if per_request > 1 else ''} | {clients} | {r['rate']:,.0f} | "
            f"{r['rate'] * per_request:,.0f} | {r['p50'] / 1000:.2f} ms | {r['p95'] / 1000:.2f} ms | "
            f"{r['p99'] / 1000:.2f} ms | {r['errors'] + r['non_2xx']} | {r['cpu_ms']:.3f} ms |"
        )
    lines += [
        "",
        "In process, the same texts through `sentiment_rnn.inference.predict` (no HTTP, one core):",
        "",
        "| texts per call | texts/s |",
        "|---|---|",
        f"| 1 | {engine[1]:,.0f} |",
        f"| {BATCH} | {engine[BATCH]:,.0f} |",
        "",
    ]
    by = {(p, c): r for p, c, r in rows}
    single, batch = by.get((1, 16)), max((r["rate"] for p, c, r in rows if p == BATCH), default=None)
    if single and 1 in engine:
        lines.append(
            f"Target: at least 1,000 single-text requests/s at 16 clients with p99 under 50 ms: "
            f"{single['rate']:,.0f} requests/s, p99 {single['p99'] / 1000:.1f} ms "
            f"({'met' if single['rate'] >= 1000 and single['p99'] < 50_000 else 'not met'}); "
            f"HTTP / in-process: {single['rate'] / engine[1]:.2f}."
        )
    if batch:
        lines.append(
            f"Target: 100-text requests at least 50,000 texts/s: best {batch * BATCH:,.0f} texts/s "
            f"({'met' if batch * BATCH >= 50_000 else 'not met'}); HTTP / in-process: {batch * BATCH / engine[BATCH]:.2f}."
        )
    errors = sum(r["errors"] + r["non_2xx"] for _, _, r in rows)
    lines.append(f"Errors over all phases: {errors} (target: 0).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model directory written by sentiment-rnn train")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase (default 30)")
    parser.add_argument("--clients", default="1,16,64", help="concurrent connections, comma-separated")
    parser.add_argument("--sizes", default=f"1,{BATCH}", help=f"texts per request, comma-separated (1 and/or {BATCH})")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serve.md"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    command = "python benchmarks/serve.py " + " ".join(sys.argv[1:])
    texts = heldout_texts()
    args.n_texts = len(texts)
    load_before = os.getloadavg()[0]
    process, url, ready = start_server(args.model)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for per_request in (int(n) for n in args.sizes.split(",")):
                script = Path(tmp) / f"bodies{per_request}.lua"
                script.write_text(wrk_script(bodies_for(texts, per_request)), encoding="utf-8")
                for clients in (int(c) for c in args.clients.split(",")):
                    cpu = cpu_seconds(process.pid)
                    figures = run_wrk(url + "predict", script, clients, args.seconds)
                    figures["cpu_ms"] = (cpu_seconds(process.pid) - cpu) * 1000 / max(figures["requests"], 1)
                    rows.append((per_request, clients, figures))
                    print(per_request, clients, figures, file=sys.stderr)
        memory = peak_memory_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
    engine = in_process(args.model, texts, min(args.seconds, 10.0))
    text = report(args, rows, engine, memory, ready, load_before, os.getloadavg()[0], command)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
