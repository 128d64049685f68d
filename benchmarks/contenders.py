"""Everything a run measures, started once: imgedge, its peers, the libvips loop, the bare endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import pyvips

from benchmarks import corpus, fresh_assets, nextjs_server, url_sets
from benchmarks.bare_endpoint import BareServer
from benchmarks.imgedge_server import ImgedgeServer, environment
from benchmarks.limit import LimitPool, load_corpus, transform_once
from benchmarks.nextjs_server import NextServer
from benchmarks.ports import free_port
from benchmarks.rss import RssSampler, command_name, tree
from benchmarks.thumbor_server import ThumborServer
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path


@dataclass(slots=True)
class Contenders:
    limit: LimitPool
    bare: BareServer | None = None
    imgedge: ImgedgeServer | None = None
    thumbor: ThumborServer | None = None
    nextjs: NextServer | None = None
    key: bytes | None = None
    originals: list[corpus.Original] = field(default_factory=list)  # ingested into imgedge
    squares: list[corpus.Original] = field(default_factory=list)  # the 1024² ones
    probe: corpus.Original | None = None  # a never-requested asset for the origin workload
    cold_ids: list[str] = field(default_factory=list)  # never-requested assets for the cold workload

    def file_name(self, original: corpus.Original) -> str:
        """How thumbor and Next.js name the canonical copy of an original."""
        return f"{original.name}-{original.width}x{original.height}.png"

    def stop(self) -> None:
        for server in (self.nextjs, self.thumbor, self.imgedge, self.bare):
            if server is not None:
                server.stop()
        self.limit.close()


@dataclass(slots=True)
class Starter:
    run_dir: Path
    sampler: RssSampler
    workers: int
    imgedge_env: dict[str, str]
    thumbor_venv: Path
    log: Callable[[str], None]
    notes: list[str]

    def limit(self, squares: list[corpus.Original]) -> LimitPool:
        self.log(f"starting the libvips limit ({self.workers} processes)")
        limit = LimitPool([o.path for o in squares], self.workers)
        for index, pid in enumerate(limit.pids()):
            self.sampler.watch(f"limit-{index + 1}", pid)
        return limit

    def imgedge(self, c: Contenders, *, generated: int, cold: int) -> None:
        data_dir = self.run_dir / "data"
        env = environment(
            data_dir, port=free_port(), generator_port=free_port(), workers=self.workers,
            extra={"IMGEDGE_ALLOW_UNSIGNED": "0", **url_sets.DIALECT_ENV, **self.imgedge_env},
        )  # fmt: skip
        self.log("ingesting the corpus with `imgedge ingest`")
        probe = self.run_dir / "origin-probe.png"
        pyvips.Image.new_from_file(str(c.squares[0].path)).rot("d90").write_to_file(str(probe))
        ingested = corpus.ingest([*c.originals, corpus.Original("origin-probe", probe, 1024, 1024)], env=env)
        c.originals, c.probe = ingested[:-1], ingested[-1]
        if cold:
            self.log(f"ingesting {cold} never-seen originals for the cold workload")
            fresh = fresh_assets.write(c.squares, cold, self.run_dir / "cold")
            c.cold_ids = [o.asset_id for o in corpus.ingest(fresh, env=env)]
            for original in fresh:
                original.path.unlink()  # the store has its own copy
        if generated:
            self.log(f"generating {generated} images with the built-in model")
            c.originals += corpus.generate(generated, env=env, width=0, height=0)
        c.squares = [o for o in c.originals if (o.width, o.height) == (1024, 1024)]
        self.log(f"starting `imgedge serve` (workers={self.workers}, {self.imgedge_env or 'defaults'})")
        c.imgedge = ImgedgeServer.start(env, log=self.run_dir / "imgedge.log")
        self.sampler.watch("imgedge", c.imgedge.process.pid)
        # The soak judges the proxy alone: the generator's (static) model memory would dilute its growth.
        # Its workers are `imgedge serve`'s children, replaced if one dies: found again at every sample.
        self.sampler.watch_group("imgedge proxy", partial(proxy_processes, c.imgedge.process.pid))
        keys = load_signing_keys(data_dir)
        c.key = keys[0] if keys else None

    def canonical_copies(self, c: Contenders) -> dict[str, bytes]:
        """The very bytes imgedge's origin serves (the canonical PNGs), named for thumbor and Next.js."""
        assert c.imgedge is not None
        return {c.file_name(o): c.imgedge.original(o.asset_id) for o in c.originals}

    def thumbor(self, copies: dict[str, bytes]) -> ThumborServer:
        root = self.run_dir / "thumbor-root"
        root.mkdir()
        for name, data in copies.items():
            (root / name).write_bytes(data)
        self.log("starting thumbor (installing it into its virtualenv first if missing)")
        server = ThumborServer.start(
            self.thumbor_venv, root=root, port=free_port(), processes_count=self.workers,
            log=self.run_dir / "thumbor.log",
        )  # fmt: skip
        self.sampler.watch("thumbor", server.process.pid)
        return server

    def nextjs(self, copies: dict[str, bytes]) -> NextServer | None:
        reason = nextjs_server.unavailable_reason()
        if reason is not None:
            self.notes.append(reason)
            return None
        self.log("starting Next.js (npm ci and next build first if needed)")
        server = NextServer.start(copies, port=free_port(), log=self.run_dir / "nextjs.log")
        self.sampler.watch("nextjs", server.process.pid)
        return server

    def bare(self, c: Contenders) -> BareServer:
        body = self.run_dir / "bare-body.webp"
        if c.imgedge is not None:
            response = httpx.get(
                c.imgedge.base_url + build_path(c.squares[0].asset_id, key=c.key, width=400, fmt="webp"),
                timeout=60.0,
            )
            response.raise_for_status()
            body.write_bytes(response.content)
        else:
            pyvips.cache_set_max(0)
            load_corpus([str(c.squares[0].path)])
            body.write_bytes(transform_once(0, "png", "webp", 400))
        self.log("starting the bare Starlette endpoint")
        bare = BareServer.start(body, port=free_port(), workers=self.workers, log=self.run_dir / "bare.log")
        self.sampler.watch("bare", bare.process.pid)
        return bare


def proxy_processes(serve: int) -> list[int]:
    """`imgedge serve`'s proxy workers (found by their command) and anything they started."""
    return [pid for root in tree(serve) if "proxy.app" in command_name(root) for pid in tree(root)]
