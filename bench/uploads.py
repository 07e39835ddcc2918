"""What an upload costs the hub: its RSS growth and the time of `submitApplication`
with one large document (1, 5 and 20 MB by default), against the real sample services.

    python -m bench.uploads [--sizes 1,5,20] [--data-dir DIR] [--residents 200]

The hub runs in its own process (bench.stack); its resident set size is sampled every
5 ms from before the request until the answer, and the peak over the baseline is
reported, with the growth that stays after. The target (issue 24): a 20 MB upload
raises the hub's RSS by less than 5 MB, because the multipart parser spools files to
disk and the hub streams them on to the source in chunks. Exit status 1 when the
largest upload misses the target.

The document is a building permit's (PBG) technical drawing, the requirement with the
largest limit (25 MB, PDF), with the three other mandatory documents small.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.stack import BenchStack, prepare_data, running_stack
from hub.identity import development_issuer

REGION_FILE = Path(__file__).resolve().parents[1] / "hub" / "reference" / "regions.yaml"
MB = 1024 * 1024
TARGET_BYTES = 5 * MB
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
SMALL = {"KTP_PEMOHON": 40_000, "BUKTI_KEPEMILIKAN_TANAH": 60_000, "KRK_KKPR": 30_000}
LARGE = "GAMBAR_RENCANA_TEKNIS"
SUBMIT = """mutation Submit($input: ApplicationInput!, $docs: [DocumentInput!], $key: String!) {
  submitApplication(input: $input, documents: $docs, idempotencyKey: $key) { number status }
}"""


@dataclass(frozen=True, slots=True)
class Measurement:
    size_mb: float
    seconds: float
    baseline: int
    peak: int
    after: int
    number: str

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def _pdf(path: Path, size: int) -> Path:
    """A file of `size` bytes that is a PDF by its content (random body: incompressible)."""
    with open(path, "wb") as out:
        out.write(PDF_HEAD)
        left = size - len(PDF_HEAD)
        while left > 0:
            chunk = os.urandom(min(left, MB))
            out.write(chunk)
            left -= len(chunk)
    return path


def _resident(data_dir: Path) -> tuple[str, str]:
    with sqlite3.connect(data_dir / "population.db") as db:
        row = db.execute("SELECT NIK, NO_PROP || NO_KAB || NO_KEC || NO_KEL FROM BIODATA_WNI ORDER BY NIK").fetchone()
    return row[0], row[1]


class _Sampler:
    """The peak RSS of a process, sampled on a thread while a request runs."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self._interval)

    def __enter__(self) -> _Sampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def _submit(client: httpx.Client, headers: dict[str, str], kelurahan: str, files: dict[str, Path], key: str) -> str:
    docs = [{"requirement": code, "file": None} for code in files]
    operations = {"query": SUBMIT, "variables": {
        "input": {"permitType": "PBG", "kelurahan": kelurahan}, "key": key, "docs": docs}}
    files_map = {str(i): [f"variables.docs.{i}.file"] for i in range(len(docs))}
    handles = [open(path, "rb") for path in files.values()]  # noqa: SIM115 - closed below
    try:
        answer = client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
            files=[(str(i), (path.name, handle, "application/pdf"))
                   for i, (path, handle) in enumerate(zip(files.values(), handles, strict=True))],
            headers=headers,
        )
    finally:
        for handle in handles:
            handle.close()
    body = answer.json()
    if answer.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"upload failed: HTTP {answer.status_code} {json.dumps(body)[:500]}")
    return str(body["data"]["submitApplication"]["number"])


def measure(stack: BenchStack, sizes: Sequence[float], work: Path) -> list[Measurement]:
    nik, kelurahan = _resident(stack.data_dir)
    token = development_issuer(stack.settings).issue(subject="bench-citizen", roles=["citizen"], nik=nik)
    headers = {"Authorization": f"Bearer {token}", "X-Access-Purpose": "self-service"}
    small = {code: _pdf(work / f"{code}.pdf", size) for code, size in SMALL.items()}
    results = []
    with httpx.Client(base_url=stack.url, timeout=300) as client:
        warm = _pdf(work / "warm.pdf", 200_000)  # first use: imports, pools, caches
        _submit(client, headers, kelurahan, {**small, LARGE: warm}, key="bench-warm")
        for run, size_mb in enumerate(sizes):
            large = _pdf(work / f"large-{size_mb:g}.pdf", int(size_mb * MB))
            sampler = _Sampler(stack.hub_pid)
            baseline = sampler.rss()
            started = time.perf_counter()
            with sampler:
                number = _submit(client, headers, kelurahan, {**small, LARGE: large}, key=f"bench-{run}-{size_mb:g}")
            seconds = time.perf_counter() - started
            results.append(Measurement(size_mb, seconds, baseline, sampler.peak, sampler.rss(), number))
            large.unlink()
    return results


def report(results: Sequence[Measurement]) -> str:
    lines = [
        "upload of one document through submitApplication (hub in its own process, real sample services)",
        f"{'size':>7}  {'time':>8}  {'RSS before':>11}  {'RSS peak':>10}  {'peak growth':>12}  {'kept after':>11}",
    ]
    for m in results:
        lines.append(
            f"{m.size_mb:>5g} MB  {m.seconds:>7.2f}s  {m.baseline / MB:>8.1f} MB  {m.peak / MB:>7.1f} MB"
            f"  {m.growth / MB:>9.2f} MB  {(m.after - m.baseline) / MB:>8.2f} MB"
        )
    largest = max(results, key=lambda m: m.size_mb)
    verdict = "met" if largest.growth < TARGET_BYTES else "NOT met"
    lines.append(f"target: a {largest.size_mb:g} MB upload raises the hub's RSS by < {TARGET_BYTES // MB} MB: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,20", help="document sizes in MB, comma-separated (at most 24)")
    parser.add_argument("--data-dir", type=Path, default=None, help="sample data (default: a temporary directory)")
    parser.add_argument("--residents", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes: numbers of MB, comma-separated")
    if not sizes or any(not 0 < s <= 24 for s in sizes):
        parser.error("--sizes: each between 0 and 24 MB (the drawing's limit is 25 MB)")
    with tempfile.TemporaryDirectory(prefix="simpul-uploads-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        manifest = prepare_data(data_dir, residents=args.residents, region_file=REGION_FILE)
        with running_stack(data_dir, manifest=manifest) as stack:
            results = measure(stack, sizes, Path(tmp))
    print(report(results))
    largest = max(results, key=lambda m: m.size_mb)
    return 0 if largest.growth < TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
