"""`hub demo`: sample data, the sample source systems, and settings that point at them."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.data_format import DATA_FORMAT
from hub.private_files import write_private
from hub.processes import RunningService, start_service
from hub.settings import Settings, SourceSettings, load_settings



def read_manifest(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


class DemoDataError(RuntimeError):
    """The sample data could not be generated; the message has the generator's own words."""


def demo_data_ready(data_dir: Path, residents: int) -> dict | None:
    """The manifest of sample data of this size and of this release's format already in
    `data_dir`, or None (then the data is generated again)."""
    manifest = read_manifest(data_dir)
    if manifest is None or manifest.get("format") != DATA_FORMAT:
        return None
    return manifest if manifest.get("residents") == residents else None


def ensure_demo_data(
    data_dir: Path,
    *,
    residents: int,
    region_file: Path,
    seed: int = 2026,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict:
    """Generate the sample data unless the data directory already holds this many residents.

    The generator runs as its own program (`python -m demo generate --progress json`);
    `on_progress` gets each of its progress events ({"step", "done", "total"} or
    {"message"}); anything else it says goes to stderr as it comes."""
    manifest = demo_data_ready(data_dir, residents)
    if manifest is not None:
        return manifest
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "demo", "generate",
            "--data-dir", str(data_dir),
            "--residents", str(residents),
            "--region-file", str(region_file),
            "--seed", str(seed),
            "--progress", "json",
        ],
        stdout=subprocess.DEVNULL,  # the manifest, read from its file below
        stderr=subprocess.PIPE,
        text=True,
        umask=0o077,  # the sample databases hold (synthetic) personal data: the hub user's only
    )
    assert process.stderr is not None
    said: list[str] = []
    with process:
        for line in process.stderr:
            event = _progress_event(line)
            if event is None:
                said.append(line.rstrip())
                print(line, end="", file=sys.stderr, flush=True)
            elif on_progress is not None:
                on_progress(event)
    if process.returncode:
        last = next((line for line in reversed(said) if line.strip()), "no message")
        raise DemoDataError(f"sample data generation failed (exit {process.returncode}): {last}")
    manifest = read_manifest(data_dir)
    if manifest is None:
        raise RuntimeError(f"sample data generation wrote no manifest in {data_dir}")
    return manifest


def _progress_event(line: str) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def demo_api_key(data_dir: Path) -> str:
    """The API key the sample services expect, made once per data directory."""
    path = data_dir / "demo-api-key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def demo_webhook_secret(data_dir: Path) -> str:
    """The secret the hub signs notifications with and the sample gateway verifies."""
    return _webhook_secret(data_dir / "notification-secret")


def demo_source_secret(data_dir: Path, source: str) -> str:
    """The secret a sample source signs its webhooks (wake-ups) with and the hub verifies."""
    return _webhook_secret(data_dir / f"{source}-webhook-secret")


def _webhook_secret(path: Path) -> str:
    """A Standard Webhooks secret (`whsec_` and 32 random bytes in base64), made once per
    data directory."""
    if not path.exists():
        write_private(path, "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


GATEWAY_RECORD = "notifications-received.jsonl"


@dataclass
class DemoSources:
    data_dir: Path
    api_key: str
    services: list[RunningService] = field(default_factory=list)
    # the sources that push (their webhook secrets), when started with the hub's URL
    hook_secrets: dict[str, str] = field(default_factory=dict)

    def url_of(self, name: str) -> str:
        return next(s.url for s in self.services if s.name == name)

    def source_settings(self) -> dict[str, SourceSettings]:
        return {
            "population": SourceSettings(
                backend="sql", url=f"sqlite+aiosqlite:///{self.data_dir / 'population.db'}"
            ),
            "licensing": SourceSettings(
                backend="rest", url=self.url_of("licensing"), api_key=self.api_key
            ),
            "complaints": SourceSettings(
                backend="rest", url=self.url_of("complaints"), api_key=self.api_key
            ),
        }

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()


SAMPLE_SERVICES = (("licensing", "demo.licensing"), ("complaints", "demo.complaints"))


def start_demo_sources(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    latency_ms: int = 0,
    on_started: Callable[[RunningService], None] | None = None,
    hub_url: str | None = None,
) -> DemoSources:
    """Start the sample services (SAMPLE_SERVICES) one after the other; `on_started` hears
    of each as it is ready. With `hub_url` (where the hub will listen) the sources push:
    a signed webhook to `<hub_url>/hooks/sources/<source>` after each change."""
    stack = DemoSources(data_dir=data_dir, api_key=demo_api_key(data_dir))
    try:
        for name, module in SAMPLE_SERVICES:
            args = [
                "--db", f"sqlite:///{data_dir / f'{name}.db'}",
                f"--api-key={stack.api_key}",  # a key may start with "-"
                "--host", host,
                "--port", "0",
                "--latency-ms", str(latency_ms),
            ]
            if hub_url is not None:
                stack.hook_secrets[name] = demo_source_secret(data_dir, name)
                args += [f"--webhook-url={hub_url}/hooks/sources/{name}",
                         f"--webhook-secret={stack.hook_secrets[name]}"]
            stack.services.append(start_service(name, module, args))
            if on_started is not None:
                on_started(stack.services[-1])
        stack.services.append(start_service("notifications", "demo.notification_gateway", [
            f"--secret={demo_webhook_secret(data_dir)}", f"--api-key={stack.api_key}",
            "--record", str(data_dir / GATEWAY_RECORD), "--host", host, "--port", "0",
        ]))
        if on_started is not None:
            on_started(stack.services[-1])
    except BaseException:
        stack.stop()
        raise
    return stack


DEMO_CONFIG = "hub.toml"


def write_demo_config(stack: DemoSources) -> Path:
    """The demo's configuration, kept in its data directory so that `hub token`,
    `hub audit` and the other commands run beside it act on the same hub."""
    lines = [
        "# Written by `hub demo`; read by hub commands given the same --data-dir.",
        "trace_sources = true",
        "",
        "[issuer]",
        "development = true",
    ]
    for source_id, source in stack.source_settings().items():
        lines += ["", f"[sources.{source_id}]", f"backend = {json.dumps(source.backend)}"]
        lines.append(f"url = {json.dumps(source.url)}")
        if source.api_key is not None:
            lines.append(f"api_key = {json.dumps(source.api_key.get_secret_value())}")
    lines += ["", "[notifications]  # the sample gateway; it records what it receives",
              f"url = {json.dumps(stack.url_of('notifications') + '/webhook')}",
              f"secret = {json.dumps(demo_webhook_secret(stack.data_dir))}"]
    if stack.hook_secrets:
        lines += ["", "[events.webhook_secrets]  # the sample sources push: a signed wake-up after each change",
                  *(f"{source} = {json.dumps(secret)}" for source, secret in stack.hook_secrets.items())]
    path = stack.data_dir / DEMO_CONFIG
    write_private(path, "\n".join(lines) + "\n")
    return path


def demo_settings(stack: DemoSources, **overrides: object) -> Settings:
    return load_settings(write_demo_config(stack), data_dir=stack.data_dir, **overrides)


async def demo_tokens(settings: Settings, *, ttl_seconds: int = 8 * 3600) -> dict[str, str]:
    """A ready token per demo role; the citizen is the first resident with applications."""
    from auth.principal import ANONYMOUS_ROLE
    from connectors import build_source
    from connectors.records import CitizenFilter, PageRequest
    from hub.identity import development_issuer
    from hub.schemas import load_access

    issuer = development_issuer(settings)
    population = build_source("population", settings.sources["population"].connector_config())
    try:
        page = await population.list_citizens(CitizenFilter(), PageRequest(first=1))
    finally:
        await population.aclose()
    resident = page.items[0] if page.items else None
    tokens = {}
    policy, _ = load_access(settings)
    for role in (r for r in policy.role_policies if r != ANONYMOUS_ROLE):  # the policy's roles, in its order
        claims: dict[str, str] = {}
        if role == "kelurahan_officer" and resident is not None:
            claims["kelurahan"] = resident.kelurahan_code
        if role == "citizen":
            if resident is None:
                continue
            claims["nik"] = resident.nik
        tokens[role] = issuer.issue(
            subject=f"demo-{role.replace('_', '-')}",
            roles=[role],
            ttl_seconds=ttl_seconds,
            department="demo",
            **claims,
        )
    return tokens
