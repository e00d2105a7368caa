"""Fetch, install and run one extension's suite, under Flask and under microasgi.

Everything is kept under ``.compat/`` (git-ignored): ``sdists/`` (the verified
downloads), ``src/`` (unpacked), ``venvs/`` (one per extension, reused while its
requirements are unchanged) and ``reports/`` (pytest's JUnit XML and output).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .extensions import FLASK, HARNESS_REQUIRES, MICROASGI_EXTRAS, Extension

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / ".compat"

#: pytest's flags for both runs. ``-o addopts=`` drops a suite's own addopts
#: (Flask-Limiter's asks for coverage); ``--timeout`` bounds each test. pytest's
#: cache stays on (pytest-xprocess keeps its state there: without it Flask-Caching's
#: server tests fail instead of skipping) but in a fresh folder per run, in the scratch.
PYTEST_ARGS = (
    "-q",
    "-o",
    "addopts=",
    "--timeout=60",
    "-o",
    "junit_family=xunit1",
    "-o",
    "junit_logging=all",
    "-o",
    "junit_log_passing_tests=false",
)
#: The opt-in under test: ``import flask`` is microasgi from before the first conftest.
AS_MICROASGI = ("-p", "microasgi.as_flask")
#: A whole run (one suite, one flavour) is stopped after this many seconds.
SUITE_TIMEOUT = 1800


@dataclass
class Outcome:
    """One test's result in one run."""

    passed: bool
    #: The first line of its error ("" when it passed or was skipped).
    error: str = ""
    skipped: bool = False
    #: The last line of the first traceback in its captured output, if any: the
    #: exception behind an answer of 500 that an assertion only saw as a status.
    logged: str = ""


@dataclass
class SuiteRun:
    """One run of a suite: every test's outcome, or why there is no report."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    #: Test modules pytest could not import, with the error's last line.
    collection_errors: dict[str, str] = field(default_factory=dict)
    #: Why the run produced no report at all (the suite never started), else "".
    crashed: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> set[str]:
        """The ids of the tests that passed."""
        return {test for test, outcome in self.outcomes.items() if outcome.passed}


def log(message: str) -> None:
    """A progress line on stderr (the run takes minutes)."""
    print(f"[compat] {message}", file=sys.stderr, flush=True)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(extension: Extension) -> Path:
    """The extension's sdist, downloaded from PyPI once and checked against its sha256."""
    folder = SCRATCH / "sdists" / extension.name
    for candidate in folder.glob("*.tar.gz"):
        if _sha256(candidate) == extension.sha256:
            return candidate
        candidate.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    pinned = folder / "requirement.txt"
    pinned.write_text(f"{extension.requirement} --hash=sha256:{extension.sha256}\n")
    log(f"downloading {extension.requirement}")
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
    _run([*pip, "--require-hashes", "-r", str(pinned), "-d", str(folder)])
    (sdist,) = folder.glob("*.tar.gz")
    if _sha256(sdist) != extension.sha256:  # pip checked it; this says so in our words
        raise RuntimeError(f"{sdist.name}: sha256 is not the pinned {extension.sha256}")
    return sdist


def unpack(extension: Extension, sdist: Path) -> Path:
    """The unpacked sdist (afresh each time: a previous run may have left files in it)."""
    target = SCRATCH / "src" / extension.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(target, filter="data")
    (top,) = target.iterdir()
    missing = [path for path in extension.test_paths if not (top / path).exists()]
    if missing:
        raise RuntimeError(f"{sdist.name} has no {', '.join(missing)}: its tests are not in it")
    return top


def venv(extension: Extension, sdist: Path) -> Path:
    """The extension's virtual environment's python, built or reused."""
    folder = SCRATCH / "venvs" / extension.name
    python = folder / "bin" / "python"
    requirements = [
        str(sdist),
        FLASK,
        *extension.test_requires,
        *HARNESS_REQUIRES,
        *MICROASGI_EXTRAS,
        "-e",
        str(ROOT),
    ]
    # microasgi's own dependencies are part of what the venv was built from.
    wanted = {"requirements": requirements, "pyproject": _sha256(ROOT / "pyproject.toml")}
    stamp = folder / "requirements.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    shutil.rmtree(folder, ignore_errors=True)
    log(f"creating the venv for {extension.name}")
    _run([sys.executable, "-m", "venv", str(folder)])
    _run([str(python), "-m", "pip", "install", "--quiet", *requirements])
    stamp.write_text(json.dumps(wanted))
    return python


def versions(python: Path) -> dict[str, str]:
    """The installed distributions in a venv, by lowercase name."""
    listed = _run([str(python), "-m", "pip", "list", "--format=json"]).stdout
    return {item["name"].lower(): item["version"] for item in json.loads(listed)}


def run_suite(extension: Extension, python: Path, source: Path, microasgi: bool) -> SuiteRun:
    """Run the extension's suite once, under Flask or (``microasgi``) under microasgi."""
    flavour = "microasgi" if microasgi else "flask"
    reports = SCRATCH / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    junit = reports / f"{extension.name}-{flavour}.xml"
    junit.unlink(missing_ok=True)
    cache = SCRATCH / "pytest-cache" / f"{extension.name}-{flavour}"
    shutil.rmtree(cache, ignore_errors=True)
    command = [str(python), "-m", "pytest", *PYTEST_ARGS, "-o", f"cache_dir={cache}"]
    command.append(f"--junitxml={junit}")
    command += [*extension.pytest_args, *(AS_MICROASGI if microasgi else ()), *extension.test_paths]
    environ = {
        key: value
        for key, value in os.environ.items()
        # CI=true turns Flask-Caching's missing servers from skips into failures.
        if key not in {"PYTHONPATH", "PYTEST_ADDOPTS", "CI", "VIRTUAL_ENV"}
    }
    log(f"running {extension.name} under {flavour}")
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            cwd=source,
            env=environ,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
        )
        output = result.stdout + result.stderr
    except subprocess.TimeoutExpired as expired:
        output = f"the run took more than {SUITE_TIMEOUT} s and was stopped\n{expired.stdout!r}"
    seconds = time.monotonic() - started
    (reports / f"{extension.name}-{flavour}.txt").write_text(output)
    if not junit.exists():
        tail = [line for line in output.splitlines() if line.strip()][-3:]
        return SuiteRun(crashed=" / ".join(tail) or "no output", seconds=seconds)
    run = parse_junit(junit)
    run.seconds = seconds
    return run


_SETUP_WRAPPER = re.compile(r'^failed on (setup|teardown) with "(.*)', re.DOTALL)


def parse_junit(path: Path) -> SuiteRun:
    """The outcomes pytest wrote in a JUnit XML report (xunit1, so with file names)."""
    run = SuiteRun()
    for case in ET.parse(path).getroot().iter("testcase"):
        problems = [child for child in case if child.tag in {"failure", "error"}]
        name = case.get("name", "")
        if not case.get("classname") and problems:
            run.collection_errors[name] = _last_error_line(problems[0].text or "") or (
                problems[0].get("message", "")
            )
            continue
        test = _test_id(case)
        if problems:
            run.outcomes[test] = Outcome(
                passed=False,
                error=_first_line(problems[0]),
                logged=_logged_exception(case),
            )
        elif case.find("skipped") is not None:
            run.outcomes[test] = Outcome(passed=False, skipped=True)
        else:
            run.outcomes[test] = Outcome(passed=True)
    return run


def _test_id(case: ET.Element) -> str:
    """pytest's node id, rebuilt from the file, class path and name."""
    file = case.get("file", "")
    module = file.removesuffix(".py").replace("/", ".")
    classname = case.get("classname", "")
    classes = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
    parts = [file or classname, *classes.split(".")] if classes else [file or classname]
    return "::".join([*parts, case.get("name", "")])


def _first_line(problem: ET.Element) -> str:
    message = (problem.get("message") or "").strip()
    where = ""
    wrapped = _SETUP_WRAPPER.match(message)
    if wrapped:
        where, message = f" (in {wrapped.group(1)})", wrapped.group(2).strip().rstrip('"')
    if not message or message == "collection failure":
        message = _last_error_line(problem.text or "")
    return (message.splitlines()[0] if message else "(no message)") + where


def _last_error_line(text: str) -> str:
    """The last ``E   ...`` line of a pytest report: the exception, for an error."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    exceptions = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Warning)\b", line)]
    return (exceptions or lines or [""])[-1]


def _logged_exception(case: ET.Element) -> str:
    for stream in ("system-out", "system-err"):
        node = case.find(stream)
        if node is None or not node.text:
            continue
        lines = node.text.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("Traceback (most recent call last):"):
                continue
            for after in lines[index + 1 :]:
                if after and not after[0].isspace():
                    return after.strip()
    return ""
