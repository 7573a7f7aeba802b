"""The explorable page: live recomputation, first paint, and generation time.

Targets (docs/math.md §11):
- recomputing 6 optimizers × 1,000 steps after a slider move ≤ 16 ms (one frame
  at 60 Hz), timed inside headless Chromium with performance.now(), median of 25;
- first paint ≤ 300 ms from file://, median of 10 loads;
- generating the page ≤ 1.5 × the time of `optviz run --no-plot` for the same
  function and optimizers: the command through its Typer app, and the bare
  optviz.run call (stricter), all in this process with warm imports and the
  function library's cache cleared before each call, interleaved, median of 7;
  wall time and this process's CPU time (steadier on a loaded machine).
Needs playwright and Chromium (Debian's /usr/bin/chromium, or OPTVIZ_CHROMIUM).
Usage: python benchmarks/bench_explore.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import optviz  # noqa: E402
from optviz.api import explore  # noqa: E402
from optviz.library import load_named  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIX = "gd,momentum,nesterov,adagrad,rmsprop,adam"


def generation(fn: str, opt: str = "gd,momentum,adam", repeats: int = 7) -> dict[str, float]:
    """Median wall and CPU seconds of optviz.run and of explore (same function, optimizers),
    interleaved so both see the same machine load."""
    calls = [("run", lambda: optviz.run(fn, opt)), ("page", lambda: explore(fn, opt))]
    try:  # the command itself, through its Typer app in this process (table included)
        from typer.testing import CliRunner

        from optviz.cli import app

        runner = CliRunner()
        calls.append(("cli", lambda: runner.invoke(app, ["run", "--fn", fn, "--opt", opt, "--no-plot"])))
    except ImportError:
        pass
    times: dict[str, list[float]] = {f"{key}{kind}": [] for key, _ in calls for kind in ("", "_cpu")}
    for _ in range(repeats):
        for key, call in calls:
            load_named.cache_clear()
            t, c = time.perf_counter(), time.process_time()
            call()
            times[key].append(time.perf_counter() - t)
            times[key + "_cpu"].append(time.process_time() - c)
    return {key: statistics.median(values) for key, values in times.items()}


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll with page.evaluate: the page's CSP forbids the eval wait_for_function uses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        page.wait_for_timeout(10)


def browser_numbers(path: Path, repeats: int = 25) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("OPTVIZ_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        version = browser.version
        paints, ready = [], []
        for _ in range(10):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.as_uri())
            wait_until(page, "window.optvizPage && window.optvizPage.ready && performance.getEntriesByType('paint').length > 0")
            paints.append(page.evaluate("performance.getEntriesByType('paint')[0].startTime"))
            ready.append(page.evaluate("optvizPage.readyAt"))
            page.close()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri())
        wait_until(page, "window.optvizPage && window.optvizPage.ready")
        recompute, update = [], []
        for i in range(repeats + 3):  # a global slider: every optimizer is recomputed
            page.locator("#warmup").fill(str(1 + i % 7))
            wait_until(page, f"optvizPage.state().schedule === 'warmup:{1 + i % 7}'")
            page.wait_for_timeout(30)
            if i >= 3:  # the first moves warm the JIT
                recompute.append(page.evaluate("optvizPage.lastRecomputeMs()"))
                update.append(page.evaluate("optvizPage.lastUpdateMs()"))
        direct = page.evaluate("""(n) => { const t = []; for (let i = 0; i < n; i++) t.push(optvizPage.recompute()); return t; }""", repeats)
        browser.close()
    return {"paint": statistics.median(paints), "ready": statistics.median(ready),
            "recompute": statistics.median(recompute),
            "update": statistics.median(update), "direct": statistics.median(direct), "version": version}


def main() -> None:
    print(f"Environment: Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    explore("sphere", "gd")  # warm imports (sympy, matplotlib, PIL) before timing anything
    optviz.run("sphere", "gd")
    print(f"Load average {os.getloadavg()[0]:.1f}. Generation, gd,momentum,adam with default steps, median of 7 "
          "(wall ms, and this process's CPU ms):")
    for fn in ("rosenbrock", "beale", "himmelblau"):
        t = generation(fn)
        print(f"  {fn:11s} page {t['page'] * 1000:6.1f} ms (CPU {t['page_cpu'] * 1000:5.1f});  "
              f"optviz.run {t['run'] * 1000:6.1f} ms (CPU {t['run_cpu'] * 1000:5.1f}), ratio {t['page'] / t['run']:.2f} "
              f"(CPU {t['page_cpu'] / t['run_cpu']:.2f})", end="")
        if "cli" in t:
            print(f";  `optviz run --no-plot` {t['cli'] * 1000:6.1f} ms (CPU {t['cli_cpu'] * 1000:5.1f}), "
                  f"ratio {t['page'] / t['cli']:.2f} (CPU {t['page_cpu'] / t['cli_cpu']:.2f})", end="")
        print("  [target ≤ 1.5]")
    with tempfile.TemporaryDirectory() as tmp:
        page = explore("rosenbrock", SIX, steps=1000)
        path = page.save(Path(tmp) / "bench.html")
        numbers = browser_numbers(path)
        print(f"In headless Chromium {numbers['version']} (page {len(page.html.encode()) / 1024:.0f} KB, "
              "6 optimizers × 1,000 steps on rosenbrock):")
        print(f"  recompute after a slider move   {numbers['recompute']:6.2f} ms  median of 25 (target ≤ 16)")
        print(f"  recompute + redraw + readouts   {numbers['update']:6.2f} ms  median of 25")
        print(f"  recompute called directly       {numbers['direct']:6.2f} ms  median of 25")
        print(f"  first paint from file://        {numbers['paint']:6.1f} ms  median of 10 (target ≤ 300)")
        print(f"  controls and paths ready        {numbers['ready']:6.1f} ms  median of 10")


if __name__ == "__main__":
    main()
