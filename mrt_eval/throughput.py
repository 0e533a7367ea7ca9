"""``mrt bench pipeline N``: end-to-end throughput of the drop-folder flow on this machine.

For each worker count: a fresh database and drop folder with the same N dictations, warm
local Dask workers (models loaded before the clock starts), then

* the ``drop-folder`` flow over the batch (what production runs), timed wall to wall;
* the same batch run by the same workers through plain Dask (``client.map`` of the same
  function, no Prefect), so Prefect's own share is ``(flow wall - plain wall) / flow wall``;

and reports audio hours per wall-clock hour, mean seconds per stage per dictation (measured
inside the worker), and each worker's peak resident memory.

Prefect's overhead: each run's time outside dictation work is its wall time minus the work
of its busiest worker (stage times measured inside the worker); Prefect's share is how much
the flow run adds to that over the plain-Dask run, divided by the flow's wall time. The plain
A/B difference of the two wall times is also kept (``prefect_overhead_ab``); it carries the
run-to-run variance of transcription speed on a shared machine (several percent).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flows import _prefect_env  # noqa: F401
from pipeline.machine import describe as machine


def _env(**values) -> dict:
    from pipeline.settings import get_settings

    before = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = str(v)
    get_settings.cache_clear()
    return before


def busiest_worker_work(outcomes: list[dict]) -> float:
    """Seconds of dictation work (all stages, timed inside the worker) on the busiest worker."""
    per_worker: dict[str, float] = {}
    for o in outcomes:
        per_worker[o["worker"]] = per_worker.get(o["worker"], 0.0) + sum(o["stage_seconds"].values())
    return max(per_worker.values(), default=0.0)


def _stage_means(outcomes: list[dict]) -> dict:
    coded = [o for o in outcomes if o["outcome"] == "coded"]
    totals: dict[str, float] = {}
    for o in coded:
        for k, v in o["stage_seconds"].items():
            totals[k] = totals.get(k, 0.0) + v
    return {k: round(v / max(1, len(coded)), 3) for k, v in totals.items()}


def run_benchmark(
    n: int,
    *,
    source: Path | None = None,
    minutes: float = 3.5,
    worker_counts=(1, 2),
    baseline: bool = True,
    keep: Path | None = None,
    progress: Callable[[str], None] = print,
) -> dict:
    from distributed import Client

    from flows import scaleout
    from flows.dropfolder import drop_folder
    from pipeline.intake import runner, synth
    from pipeline.intake.inbox import scan
    from pipeline.settings import get_settings
    from pipeline.transcribe.audio import MEDIA_EXTENSIONS, load_media

    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mrt-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    batch = work / "batch"
    if source:
        files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in MEDIA_EXTENSIONS)[:n]
        batch = Path(source)
    else:
        progress(f"generating {n} dictations of {minutes:g} min from the samples in {batch}")
        files = synth.long_dictations(batch, n, minutes * 60)
    if not files:
        raise SystemExit(f"no dictations in {source}")
    audio_s = sum(load_media(f).duration for f in files)
    warm_clip = synth.short_clips(work / "warm", 2, 4.0)

    saved = _env(
        MRT_STABLE_SECONDS="0",
        MRT_MIN_WORDS="0",
        MRT_DASK_ADDRESS=None,
        MRT_CPU_THREADS=None,
        MRT_TASK_RETRIES="0",
        PREFECT_LOGGING_LEVEL=os.environ.get("PREFECT_LOGGING_LEVEL", "CRITICAL"),
    )
    base_env = {k: os.environ.get(k) for k in ("MRT_DATA_DIR", "MRT_DATABASE_URL", "MRT_INBOX_DIR")}
    runs = []
    try:
        for w in worker_counts:
            settings = get_settings()
            progress(f"{w} worker(s): starting and loading models")
            t0 = time.perf_counter()
            cluster = scaleout.start_shared_cluster(settings, w)
            start_s = time.perf_counter() - t0
            client = Client(cluster.scheduler_address, set_as_default=False)
            try:
                row = {"workers": w, "cluster_start_s": round(start_s, 1)}
                for mode in (["plain"] if baseline else []) + ["prefect"]:
                    data = work / f"w{w}-{mode}"
                    shutil.rmtree(data, ignore_errors=True)
                    inbox = data / "inbox"
                    inbox.mkdir(parents=True)
                    _env(MRT_DATA_DIR=str(data), MRT_DATABASE_URL=None, MRT_INBOX_DIR=str(inbox))
                    settings = get_settings()
                    wsettings = scaleout.worker_settings(settings, 1)  # cpu threads already set for the shared cluster
                    # warm-up (not timed): Prefect API, database schema, worker code paths
                    for clip in warm_clip:
                        shutil.copy2(clip, inbox / clip.name)
                    if mode == "prefect":
                        drop_folder(str(inbox))
                    else:
                        client.gather(
                            client.map(
                                runner.process_drop,
                                [str(inbox / p.name) for p in warm_clip],
                                settings=wsettings,
                                inbox_root=inbox,
                                pure=False,
                            )
                        )
                    for f in files:
                        shutil.copy2(f, inbox / f.name)
                        side = f.with_name(f.name + ".json")
                        if side.exists():
                            shutil.copy2(side, inbox / side.name)
                    progress(
                        f"{w} worker(s): {len(files)} dictations through {'the drop-folder flow' if mode == 'prefect' else 'plain Dask'}"
                    )
                    t0 = time.perf_counter()
                    if mode == "prefect":
                        report = drop_folder(str(inbox))
                        outcomes = report["outcomes"]
                    else:
                        drops = scan(inbox).drops
                        futures = client.map(runner.process_drop, drops, settings=wsettings, inbox_root=inbox, pure=False)
                        outcomes = [o.to_dict() for o in client.gather(futures)]
                    wall = time.perf_counter() - t0
                    coded = sum(o["outcome"] == "coded" for o in outcomes)
                    if coded != len(files):
                        bad = [o for o in outcomes if o["outcome"] != "coded"]
                        raise RuntimeError(f"benchmark run {mode} with {w} workers: {len(bad)} not coded: {bad[:3]}")
                    row[f"{mode}_wall_s"] = round(wall, 2)
                    row[f"{mode}_busiest_worker_work_s"] = round(busiest_worker_work(outcomes), 2)
                    if mode == "prefect":
                        row["stage_seconds_per_dictation"] = _stage_means(outcomes)
                rss = client.run(scaleout.peak_rss_bytes)
                loads = client.run(scaleout.model_loads)
                row["wall_s"] = row["prefect_wall_s"]
                row["audio_hours_per_hour"] = round(audio_s / row["wall_s"], 2)
                # time outside dictation work: the run's wall minus the busiest worker's work; Prefect's
                # share is what the flow adds to that over plain Dask (transcription speed, which
                # varies from run to run on a shared VM, cancels out)
                idle_p = row["prefect_wall_s"] - row["prefect_busiest_worker_work_s"]
                row["prefect_outside_work_share"] = round(idle_p / row["prefect_wall_s"], 4)
                if baseline:
                    idle_d = row["plain_wall_s"] - row["plain_busiest_worker_work_s"]
                    row["plain_outside_work_share"] = round(idle_d / row["plain_wall_s"], 4)
                    row["prefect_overhead"] = round((idle_p - idle_d) / row["prefect_wall_s"], 4)
                    row["prefect_overhead_ab"] = round((row["prefect_wall_s"] - row["plain_wall_s"]) / row["prefect_wall_s"], 4)
                else:
                    row["prefect_overhead"] = None
                row["peak_rss_mb"] = [round(v / 1024**2) for v in rss.values()]
                row["model_loads_per_worker"] = list(loads.values())
                runs.append(row)
                progress(f"{w} worker(s): {row['audio_hours_per_hour']:.1f} audio h/h, wall {row['wall_s']:.1f} s")
            finally:
                client.close()
                cluster.close()
                _env(MRT_DASK_ADDRESS=None, MRT_CPU_THREADS=None)
    finally:
        _env(**base_env, **saved)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "machine": machine(),
        "dictations": len(files),
        "audio_minutes": round(audio_s / 60, 2),
        "mean_dictation_minutes": round(audio_s / 60 / len(files), 2),
        "runs": runs,
        "model": get_settings().whisper_model,
        "backend": get_settings().transcribe_backend,
        "beam_size": get_settings().beam_size,
        "compute_type": get_settings().compute_type,
    }
