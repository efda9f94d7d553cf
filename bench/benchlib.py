"""What the benchmarks share: percentiles, medians with their spread, a service served in its own
process, and where results are written."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"


async def each_run(runs: int, one_run: Callable[[int], Awaitable[dict]]) -> list[dict]:
    """`one_run(i)` for every run, each printed as it ends with the machine's load average (the figures
    of a 2-CPU machine shared with other work depend on it)."""
    results = []
    for run in range(runs):
        result = {**await one_run(run), "load_average_1m": round(os.getloadavg()[0], 1)}
        results.append(result)
        print(f"run {run + 1}: {json.dumps(result, default=str)}", flush=True)
    return results


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (0.0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def latency_figures(latencies_ms: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(percentile(latencies_ms, p), 2) for p in (50, 95, 99)}


def spread(runs: list[dict], key: str) -> dict[str, float]:
    """The median of the runs' figure, with min and max."""
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def spread_text(runs: list[dict], key: str) -> str:
    figure = spread(runs, key)
    return f"{figure['median']} (min {figure['min']}, max {figure['max']})"


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU a local process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def served(service: str, env: dict[str, str], port: int, *, ready_timeout: float = 60.0) -> AsyncIterator[int]:
    """`python -m <service>_service serve` in its own process (HTTP, worker and jobs, as deployed) on `port`;
    yields its pid once /healthz/ready answers."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{service}-", suffix=".log", delete=False)  # noqa: SIM115
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"{service}_service", "serve",
        env={**os.environ, **env, f"{service.upper()}_HTTP__PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            deadline = asyncio.get_running_loop().time() + ready_timeout
            while True:
                if process.returncode is not None:
                    error = _tail(log.name)
                    raise SystemExit(f"{service} stopped before it was ready:\n{error}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz/ready")).status_code == 200:
                        break
                if asyncio.get_running_loop().time() > deadline:
                    raise SystemExit(f"{service} was not ready within {ready_timeout:.0f}s")
                await asyncio.sleep(0.2)
        yield process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()
        os.unlink(log.name)


def _tail(path: str, size: int = 2000) -> str:
    with open(path, errors="replace") as log:
        return log.read()[-size:]


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return out
