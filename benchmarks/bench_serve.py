"""The web server under load, as a client sees it: a real `telltales serve` process.

    python benchmarks/bench_serve.py [--workers 1] [--queue 2] [--runs 20] [--concurrent 20]

1. latency: median (and max) of ``--runs`` sequential uploads of distinct 1-megapixel JPEGs
   through ``POST /api/inspect``, after one warm-up upload (the worker loads its models);
2. ``--concurrent`` distinct uploads at once: every status code, connection errors, wall time;
3. pixel bombs, 6 at once each: a ~630-byte JPEG declaring 9000x9000 pixels (the library
   decodes it at 1/2 scale, in a worker: bounded) and one declaring 65000x65000 (over the pixel
   budget even at 1/8 scale: refused from the header); statuses, and whether the server still
   answers /health.
Peak memory is the largest summed RSS of the server and its worker processes, sampled
every 50 ms from /proc (Linux).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from telltales.example import picture
from telltales.fuzz import jpeg_declaring


def jpeg_1mp(seed: int) -> bytes:
    """A distinct (so never de-duplicated) 1155x866 JPEG: one pixel row differs per seed."""
    img = picture(1155, 866)
    img.putpixel((seed % 1155, 0), (seed % 256, (seed * 7) % 256, (seed * 13) % 256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def tree_rss_mb(pid: int) -> float:
    """Summed RSS of ``pid`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            time.sleep(0.05)

    def reset(self) -> float:
        p, self.peak = self.peak, 0.0
        return p


def post(port: int, data: bytes, name: str, timeout: float = 900) -> tuple[int | str, float]:
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("POST", f"/api/inspect?filename={name}", body=data,
                     headers={"Content-Type": "image/jpeg"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status, time.perf_counter() - t0
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--concurrent", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    port = free_port()
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen([sys.executable, "-m", "telltales", "serve", "--port", str(port),
                             "--db", f"sqlite:///{tmp / 'c.sqlite'}", "--images", str(tmp / "img"),
                             "--workers", str(args.workers), "--queue", str(args.queue)],
                            stdout=subprocess.DEVNULL, stderr=log)
    out: dict[str, object] = {"workers": args.workers, "queue": args.queue,
                              "load_average_at_start": os.getloadavg()}
    try:
        for _ in range(300):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        sampler = PeakSampler(proc.pid)
        sampler.start()
        warm = post(port, jpeg_1mp(10_000), "warm.jpg")
        out["warm_up"] = {"status": warm[0], "seconds": round(warm[1], 2)}
        lat = []
        for i in range(args.runs):
            status, secs = post(port, jpeg_1mp(i), f"seq{i}.jpg")
            if status != 200:
                raise SystemExit(f"upload {i} answered {status}")
            lat.append(secs)
        out["latency_s"] = {"n": len(lat), "median": round(statistics.median(lat), 2),
                            "min": round(min(lat), 2), "max": round(max(lat), 2)}
        out["peak_rss_mb_sequential"] = round(sampler.reset())

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as ex:
            res = list(ex.map(lambda i: post(port, jpeg_1mp(1000 + i), f"conc{i}.jpg"),
                              range(args.concurrent)))
        out["concurrent"] = {"n": args.concurrent, "statuses": dict(Counter(str(s) for s, _ in res)),
                             "wall_s": round(time.perf_counter() - t0, 2),
                             "slowest_s": round(max(t for _, t in res), 2),
                             "peak_rss_mb": round(sampler.reset())}

        for key, (w, h) in {"bomb_9000_x6": (9000, 9000), "bomb_65000_x6": (65000, 65000)}.items():
            bomb = jpeg_declaring(w, h)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(6) as ex:
                res = list(ex.map(lambda i, b=bomb, k=key: post(port, b, f"{k}-{i}.jpg"), range(6)))
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health")
            health = conn.getresponse()
            out[key] = {"bytes": len(bomb), "statuses": dict(Counter(str(s) for s, _ in res)),
                        "wall_s": round(time.perf_counter() - t0, 2),
                        "peak_rss_mb": round(sampler.reset()),
                        "health_after": health.status, "server_alive": proc.poll() is None}
        sampler.stop.set()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
