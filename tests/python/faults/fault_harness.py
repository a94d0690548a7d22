"""The fault matrix's shared machinery: one published demo state per session, a copy of it per
case, the pipeline run on that copy, and the checks every case makes.

Every case asserts: the exit code; the one line the user sees (the last ERROR line) names the
cause and the file, table or step; no traceback; no personal value of the raw data anywhere in
the output; the publication unchanged or a new complete release; the warehouse usable, or
rebuilt by the next run. Recovery times of the next run are appended to RECOVERY_LOG (figures
for docs/operations.md, never asserted).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from dbt_harness import pipeline_environment
from privseg.core.settings import PROJECT_DIR

PYTHON = str(PROJECT_DIR / ".venv" / "bin" / "python")
DBT = str(PROJECT_DIR / ".venv" / "bin" / "dbt")
PIPELINE = str(PROJECT_DIR / "scripts" / "pipeline.py")
# A demo data set small enough for a few dozen builds in one session.
DEMO_CUSTOMERS = "300"
# Drop every capability: root then meets file permissions like anybody (for mode-000 files).
WITHOUT_ROOT_POWERS = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]


def fingerprint(publish_dir: Path) -> dict[str, str]:
    """Every file of the current publication -> sha256."""
    current = (publish_dir / "current").resolve()
    return {
        str(path.relative_to(current)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(current.rglob("*"))
        if path.is_file()
    }


def personal_values(raw_dir: Path) -> list[str]:
    """Values of the raw data that must never appear in any output: emails, full names,
    phone numbers and street addresses of the generated customers."""
    with duckdb.connect() as con:
        rows = con.execute(
            "select email, first_name || ' ' || last_name, phone, street_address "
            "from read_parquet(?)",
            [str(raw_dir / "customers.parquet")],
        ).fetchall()
    return sorted({value for row in rows for value in row if value and len(value) >= 6})


def run_command(
    root: Path, *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> Run:
    """pipeline.py with `args` on the state in `root` (env: variables to add or override)."""
    started = time.monotonic()
    done = subprocess.run(
        [*(prefix or []), PYTHON, PIPELINE, *(args or ("run",))],
        env={**pipeline_environment(root), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if " ERROR " in line]

    @property
    def last_error(self) -> str:
        return self.error_lines[-1] if self.error_lines else ""


@dataclass
class Case:
    """One fault case: a copy of the published demo state, and the runs made on it."""

    root: Path
    base: Path
    personal: list[str] = field(repr=False)  # the raw values to look for: never printed
    # Paths moved elsewhere (a small disk): WAREHOUSE_PATH, PUBLISH_DIR, ...
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**pipeline_environment(self.root), **self.overrides}

    @property
    def raw(self) -> Path:
        return Path(self.env["RAW_DATA_DIR"])

    @property
    def warehouse(self) -> Path:
        return Path(self.env["WAREHOUSE_PATH"])

    @property
    def published(self) -> Path:
        return Path(self.env["PUBLISH_DIR"])

    def command(self, *args: str) -> list[str]:
        return [PYTHON, PIPELINE, *(args or ("run",))]

    def run(
        self, *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None
    ) -> Run:
        return run_command(self.root, *args, env={**self.overrides, **(env or {})}, prefix=prefix)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """The pipeline in the background, its output to files (a pipe nobody reads while the
        test waits for its moment would fill up and stop the run)."""
        name = f"started-{time.monotonic_ns()}"
        out_path, err_path = self.root.parent / f"{name}.out", self.root.parent / f"{name}.err"
        with out_path.open("w") as out, err_path.open("w") as err:
            process = subprocess.Popen(
                self.command(*args),
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        process.output_name = name  # type: ignore[attr-defined]
        return process

    def finish(self, process: subprocess.Popen, started: float) -> Run:
        process.wait(timeout=1200)
        name = process.output_name  # type: ignore[attr-defined]
        stdout = (self.root.parent / f"{name}.out").read_text()
        stderr = (self.root.parent / f"{name}.err").read_text()
        return Run(process.returncode, stdout, stderr, time.monotonic() - started)

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        key = (self.root / "secrets" / "pseudonym.key").read_text().strip()
        return subprocess.run(
            [DBT, *args],
            cwd=PROJECT_DIR,
            env={**self.env, "DBT_ENV_SECRET_PSEUDONYM_KEY": key},
            capture_output=True,
            text=True,
            check=False,
        )

    def publication(self) -> dict[str, str]:
        return fingerprint(self.published)

    def warehouse_build(self) -> str | None:
        """The build id the warehouse holds (it opens and answers), or None."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute("select any_value(build_id) from main.dbt_build_id").fetchone()[0]

    def rewrite(self, table: str, select: str, compression: str = "zstd") -> None:
        """Replace raw table `table` with `select` over it ({t} = the old file)."""
        path = self.raw / f"{table}.parquet"
        staged = self.root / f"{table}.staged.parquet"
        source = f"read_parquet('{path}')"
        with duckdb.connect() as con:
            con.execute(
                f"copy ({select.format(t=source)}) to '{staged}' "
                f"(format parquet, compression {compression})"
            )
        os.replace(staged, path)

    def restore_raw(self) -> None:
        """The fault fixed: the raw folder as in the published state."""
        shutil.rmtree(self.raw)
        shutil.copytree(self.base / "raw", self.raw)

    def check(self, run: Run, code: int, *names: str) -> None:
        """Exit code; the last ERROR line names every one of `names`; no traceback; nothing
        personal anywhere in the output."""
        assert run.code == code, f"exit {run.code}, not {code}:\n{run.output[-4000:]}"
        if code != 0:
            assert run.last_error, run.output[-3000:]
            for name in names:
                assert name in run.last_error, f"{name!r} not in: {run.last_error}"
        assert "Traceback" not in run.output, run.output[-4000:]
        leaked = [value for value in self.personal if value in run.output]
        assert not leaked, f"{len(leaked)} personal values in the output"

    def recover(self, *args: str, what: str) -> Run:
        """The next run (the fault removed): it succeeds and publishes a new complete release.
        Its time is recorded under `what`."""
        before = self.publication()
        run = self.run(*args)
        self.check(run, 0)
        after = self.publication()
        assert after != before and set(after) == set(before), "a new complete release"
        assert self.warehouse_build() is not None
        record_recovery(what, args or ("run",), run.seconds)
        return run


RECOVERY_LOG_NAME = "fault_recovery.jsonl"


def recovery_log() -> Path | None:
    folder = os.environ.get("FAULTS_SHARED_DIR")
    return Path(folder) / RECOVERY_LOG_NAME if folder else None


def record_recovery(case: str, args: tuple[str, ...], seconds: float) -> None:
    log = recovery_log()
    if log is not None:
        with log.open("a") as out:
            out.write(json.dumps({"case": case, "command": " ".join(args), "seconds": seconds}))
            out.write("\n")


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before the fault")
        assert time.monotonic() < deadline, "the run never reached the point of the fault"
        time.sleep(0.02)


def log_says(case: Case, text: str) -> Callable[[], bool]:
    log = Path(case.env["DBT_LOG_PATH"]) / "dbt.log"
    return lambda: log.exists() and text in log.read_text(errors="replace")


@contextlib.contextmanager
def small_disk(mountpoint: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` at `mountpoint` (needs root; skips the case otherwise)."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(mountpoint: Path) -> Path:
    """Take every free byte of the filesystem at `mountpoint` (remove the file with
    unlink(missing_ok=True): a filesystem the process under test has already filled leaves no
    room to create it, and is full as wanted)."""
    filler = mountpoint / "filler"
    free = shutil.disk_usage(mountpoint).free
    try:
        out = filler.open("wb")
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return filler
    with out:
        with contextlib.suppress(OSError):
            os.posix_fallocate(out.fileno(), 0, free)
        with contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * (1 << 16))
                out.flush()
    return filler


def relocate(case: Case, variable: str, mountpoint: Path) -> Path:
    """Move the warehouse (WAREHOUSE_PATH) or the publication (PUBLISH_DIR) of the case onto
    `mountpoint` and point the variable there."""
    source = Path(case.env[variable])
    target = mountpoint / source.name
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
        shutil.rmtree(source)
    else:
        shutil.copy2(source, target)
        source.unlink()
        source.with_name(source.name + ".lock").unlink(missing_ok=True)
    case.overrides[variable] = str(target)
    return target
