"""Shared by the benchmark, the crash test and the fault test: the bot process, the store
seed and the simulated voters.

Voters are generic so the harness keeps working whatever flows exist: each reads the inline
keyboard of the last answer and presses a random button (sometimes "Retour"/"Menu"), or types
free text from a list of French phrasings, or sends /start, /menu, /aide.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.fakeapi import AsyncFakeBotAPI
from store.db import migrations

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-secret-token"
SECRET = "bench_webhook_secret_0123456789"
NOW = "2022-11-02T10:00:00"  # account activation open (creteil-2022 calendar)
SEED_BASE = 10_000_000  # seeded voters' ids, away from the simulated ones

TEXTS = [
    "Bonjour",
    "Je n'ai pas reçu mon code de vote",
    "Comment je vote ?",
    "J'ai oublié mon mot de passe",
    "je trouve pas mon NUMEN",
    "C'est quand le vote ?",
    "merci beaucoup",
    "ok",
    "Je suis AESH dans le 93, je fais comment ?",
    "ma collègue n'est pas sur la liste électorale",
    "je veux parler à quelqu'un",
    "aide",
    "Où est ma notice de vote ?",
    "le lien ne marche pas",
    "Bonsoir, je suis enseignante en Seine-et-Marne",
]
COMMANDS = ["/start", "/menu", "/aide"]
NAV = ("Retour", "Menu")


def seed_store(path: Path, voters: int) -> None:
    """Put `voters` users with a conversation in a fresh store, through the store API."""
    from bot.settings import PARIS
    from store import Conversation, StepCommit, open_store

    async def main() -> None:
        store = await open_store(path)
        now = datetime(2022, 10, 20, 12, 0, tzinfo=PARIS)
        try:
            for i in range(voters):
                uid = SEED_BASE + i
                state = ("menu", "main") if i % 3 else ("webmel", "enter_numen")
                await store.commit_step(
                    StepCommit(
                        conversation=Conversation(uid, *state, {"history": ["menu.main"]}),
                        events=(),
                        update_id=None,
                        replies=[],
                        first_name=f"Seed{i}",
                    ),
                    now,
                )
        finally:
            await store.close()

    # Its own event loop in a worker thread: callers may already run one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()


def seeded_copy(workdir: Path, voters: int) -> Path:
    """A store with `voters` seeded voters in `workdir` (built once, cached in bench/.cache)."""
    target = workdir / "votebot.sqlite3"
    if voters <= 0:
        return target
    schema = hashlib.sha256("".join(name for _, name, _ in migrations()).encode()).hexdigest()
    cache = ROOT / "bench" / ".cache" / f"seed-{voters}-{schema[:8]}.sqlite3"  # per schema
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        print(f"seeding {voters:,} voters (once, cached in {cache.relative_to(ROOT)}) …")
        tmp = cache.with_suffix(".tmp")
        for leftover in cache.parent.glob(tmp.name + "*"):
            leftover.unlink()
        seed_store(tmp, voters)
        tmp.rename(cache)
        print(f"  seeded in {time.monotonic() - started:.0f} s")
    shutil.copy(cache, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """`votebot run` (or the echo bot) in a subprocess, polling or webhook, with RSS sampling."""

    def __init__(self, kind: str, mode: str, base_url: str, workdir: Path) -> None:
        self.kind, self.mode, self.workdir = kind, mode, workdir
        self.port = free_port()
        self.webhook_url = f"http://127.0.0.1:{self.port}/hook"
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": base_url,
            "VOTEBOT_DB": str(workdir / "votebot.sqlite3"),
            "VOTEBOT_NOW": NOW,
            "VOTEBOT_LOG_LEVEL": "WARNING",
            "VOTEBOT_WEBHOOK_SECRET": SECRET,
            "VOTEBOT_WEBHOOK_PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(workdir / f"{kind}-{mode}.log", "ab")  # noqa: SIM115
        self.peak_rss = 0
        self.cpu = 0.0
        self._sampler: asyncio.Task[None] | None = None
        self.starts = 0
        self.profiled = False

    def command(self) -> list[str]:
        if self.kind == "echo":
            cmd = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
        else:
            cmd = [sys.executable, "-m", "bot", "run"]
        if self.mode == "webhook":
            cmd += ["--webhook", self.webhook_url]
        profile = os.environ.get("BENCH_PROFILE")  # e.g. /tmp/votebot.txt: py-spy's flat view
        if profile and self.kind in os.environ.get("BENCH_PROFILE_KINDS", "votebot"):
            out = f"{profile}.{self.mode}.{self.kind}.{self.starts}"
            idle = ["--idle"] if os.environ.get("BENCH_PROFILE_IDLE") else []
            cmd = ["py-spy", "record", "-f", "raw", "-o", out, "-r", "200", *idle, "--", *cmd]
            self.profiled = True
        return cmd

    def _bot(self, proc: psutil.Process) -> psutil.Process:
        """The bot itself: under py-spy, the profiler's child process."""
        return next(iter(proc.children()), proc) if self.profiled else proc

    def main_thread_cpu(self) -> float:
        """CPU seconds the bot's main thread (its event loop) has used so far; 0 if unknown."""
        if self.proc is None:
            return 0.0
        try:
            bot = self._bot(psutil.Process(self.proc.pid))
            return next(
                (t.user_time + t.system_time for t in bot.threads() if t.id == bot.pid), 0.0
            )
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return 0.0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(), env=self.env, cwd=self.workdir, stdout=self.log, stderr=self.log
        )
        self.starts += 1
        self._sampler = asyncio.get_running_loop().create_task(self._sample(self.proc.pid))

    async def _sample(self, pid: int) -> None:
        try:
            proc = psutil.Process(pid)
            while True:
                bot = self._bot(proc)
                self.peak_rss = max(self.peak_rss, bot.memory_info().rss)
                times = bot.cpu_times()
                self.cpu_now = times.user + times.system
                await asyncio.sleep(0.1)
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return

    async def ready(self, api: AsyncFakeBotAPI, timeout: float = 60) -> None:
        """Wait until the bot polls (or has set its webhook and listens)."""
        api.polled.clear()
        await asyncio.wait_for(api.polled.wait(), timeout)
        if self.mode == "webhook":
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                except OSError:
                    await asyncio.sleep(0.05)
            raise TimeoutError("webhook server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.cpu += getattr(self, "cpu_now", 0.0)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.cpu += getattr(self, "cpu_now", 0.0)
            self.proc.send_signal(signal.SIGINT)
            for _ in range(200):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.proc.kill()
        if self._sampler is not None:
            self._sampler.cancel()
        self.log.close()
        return self.proc.wait()

    def logs(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in self.workdir.glob(f"{self.kind}-*.log")
        )


def buttons_of(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    return [b for row in rows for b in row if b.get("callback_data")]


def next_update(
    api: AsyncFakeBotAPI, uid: int, last: dict[str, Any] | None, rng: random.Random
) -> dict[str, Any]:
    """What a voter does next, seeing the last answer."""
    if last is None:
        return api.text_update(uid, "/start")
    buttons = buttons_of(last)
    roll = rng.random()
    if roll < 0.72 and buttons:
        nav = [b for b in buttons if any(n in b["text"] for n in NAV)]
        pool = nav if nav and rng.random() < 0.15 else buttons
        return api.press_update(uid, last, rng.choice(pool)["callback_data"])
    if roll < 0.9:
        return api.text_update(uid, rng.choice(TEXTS))
    return api.text_update(uid, rng.choice(COMMANDS))


@dataclass
class Run:
    """The figures of one harness run."""

    updates: int = 0
    answered: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    peak_rss: int = 0  # bytes, of the bot process
    bot_cpu: float = 0.0  # CPU seconds the bot used per second of the run
    main_busy: float = 0.0  # CPU seconds of the bot's main thread per second of the run
    harness_cpu: float = 0.0  # CPU seconds the harness (fake API + voters) used per second

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def summary(self) -> str:
        mean = statistics.mean(self.latencies) * 1000 if self.latencies else float("nan")
        return (
            f"{self.answered}/{self.updates} answered in {self.seconds:.1f} s = "
            f"{self.rate:.0f} updates/s; latency ms p50 {self.pct(50):.0f} "
            f"p95 {self.pct(95):.0f} p99 {self.pct(99):.0f} (mean {mean:.0f}); harness CPU "
            f"{self.harness_cpu:.0%} of a core"
        )


class WebhookClient:
    """Telegram's side of webhook calls: keep-alive connections, a minimal HTTP/1.1 client
    (httpx costs the harness more CPU than the bot it measures)."""

    def __init__(self, url: str, connections: int = 200) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = (
            asyncio.Queue()
        )
        for _ in range(connections):
            self.free.put_nowait(None)

    async def close(self) -> None:
        """Close the kept-alive connections."""
        while not self.free.empty():
            conn = self.free.get_nowait()
            if conn is not None:
                conn[1].close()
                with contextlib.suppress(OSError):
                    await conn[1].wait_closed()

    async def post(self, update: dict[str, Any]) -> tuple[int, bytes]:
        """POST one update with the secret header; the HTTP status (0 if the call failed) and
        the answer's body (a Bot API call Telegram would run, or nothing)."""
        body = json.dumps(update).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n\r\n"
        ).encode()
        conn = await self.free.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
            reader, writer = conn
            writer.write(head + body)
            status_line = await reader.readuntil(b"\r\n")
            headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in headers.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            answer = await reader.readexactly(length) if length else b""
            return int(status_line.split(b" ", 2)[1]), answer
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            if conn is not None:
                conn[1].close()
            conn = None
            return 0, b""
        finally:
            self.free.put_nowait(conn)


class Voters:
    """Simulated voters walking the guide at the same time, one update at a time each."""

    def __init__(
        self,
        api: AsyncFakeBotAPI,
        count: int,
        steps: int,
        mode: str = "polling",
        seed: int = 1,
        answer_timeout: float = 60.0,
        pause: float = 0.0,
    ) -> None:
        self.api, self.count, self.steps, self.mode = api, count, steps, mode
        self.rng = random.Random(seed)
        self.answer_timeout = answer_timeout
        self.pause = pause  # mean seconds a voter waits after an answer (0: at once)
        self.run = Run()
        self.sent: dict[int, int] = {}  # voter → updates sent
        self.client: WebhookClient | None = None

    async def deliver(self, update: dict[str, Any]) -> None:
        if self.mode == "polling":
            self.api.push(update)
            return
        assert self.client is not None and self.api.webhook is not None
        self.api.pushed_ids.append(update["update_id"])
        for _ in range(100):  # Telegram retries a webhook call that fails
            status, answer = await self.client.post(update)
            if status == 200:
                await self.api.webhook_answer(answer)
                return
            await asyncio.sleep(0.2)

    async def walk(self, uid: int) -> None:
        rng = random.Random(self.rng.random())
        last: dict[str, Any] | None = None
        if self.pause:
            await asyncio.sleep(rng.uniform(0, 2 * self.pause))  # arrivals spread out
        for step in range(self.steps):
            if self.pause and step:
                await asyncio.sleep(self.pause * rng.uniform(0.5, 1.5))
            update = next_update(self.api, uid, last, rng)
            pending = self.api.expect(uid)
            self.run.updates += 1
            self.sent[uid] = self.sent.get(uid, 0) + 1
            await self.deliver(update)
            try:
                last = await asyncio.wait_for(pending.future, self.answer_timeout)
                self.run.answered += 1
            except TimeoutError:
                self.run.timeouts += 1
                self.api.pending.pop(uid, None)
                last = self.api.last_keyboard.get(uid)

    async def go(self, first_uid: int = 1) -> Run:
        if self.mode == "webhook":
            assert self.api.webhook is not None
            self.client = WebhookClient(self.api.webhook["url"])
        me = psutil.Process()
        cpu = sum(me.cpu_times()[:2])
        before = len(self.api.stats.latencies)
        started = time.monotonic()
        await asyncio.gather(*(self.walk(first_uid + i) for i in range(self.count)))
        if self.client is not None:
            await self.client.close()
        self.run.seconds = time.monotonic() - started
        self.run.harness_cpu = (sum(me.cpu_times()[:2]) - cpu) / self.run.seconds
        self.run.latencies = self.api.stats.latencies[before:]
        return self.run
