"""The CLI answers at once: no heavy import before a command needs it; quiet logs by default;
SIGTERM ends a command cleanly. Timings themselves are measured by bench/bench_cli.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from spreadwatch.cli.context import EXIT_FAILED, fail_cleanly
from spreadwatch.settings import Settings

from child_support import children_take_ctrl_c  # isort: skip

PROJECT = Path(__file__).resolve().parent.parent
SPREADWATCH = str(PROJECT / ".venv" / "bin" / "spreadwatch")

#: What `--help` must not pay for (each costs 0.1-1 s of CPU to import).
HEAVY = (
    "elasticsearch",
    "elastic_transport",
    "matplotlib",
    "scrapy",
    "twisted",
    "pydantic",
    "sqlalchemy",
    "apscheduler",
    "jinja2",
    "rich",
    "openpyxl",
    "weasyprint",
    "yaml",
    "indexer",
    "alerts",
    "crawlers",
    "scheduler",
)

EVERY_HELP = textwrap.dedent(
    """
    import sys
    import click
    from spreadwatch.cli import cli

    def paths(group, prefix):
        for name, command in sorted(group.commands.items()):
            yield [*prefix, name]
            if isinstance(command, click.Group):
                yield from paths(command, [*prefix, name])

    shown = 0
    for path in [[], *paths(cli, [])]:
        try:
            cli.main([*path, "--help"], prog_name="spreadwatch", standalone_mode=False)
        except SystemExit:
            pass
        shown += 1
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
    print(shown, " ".join(heavy), file=sys.stderr)
    """
)


def test_no_help_imports_anything_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", EVERY_HELP, *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    shown, _, heavy = done.stderr.strip().splitlines()[-1].partition(" ")
    assert int(shown) >= 20  # every command and group (a broken walk would show few)
    assert heavy == "", f"--help imported: {heavy}"


def test_the_installed_command_answers_help() -> None:
    done = subprocess.run([SPREADWATCH, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "search" in done.stdout and done.stderr == ""


def _env(es_settings: Settings, prefix: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SPREADWATCH_INDEX_PREFIX": prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
    }
    env.pop("SPREADWATCH_LOG_LEVEL", None)
    return env


def test_commands_log_only_warnings_unless_asked(
    es_settings: Settings, index_names: object
) -> None:
    env = _env(es_settings, index_names.prefix)  # type: ignore[attr-defined]
    quiet = subprocess.run(
        [SPREADWATCH, "init"], env=env, capture_output=True, text=True, check=False
    )
    loud = subprocess.run(
        [SPREADWATCH, "-v", "init"], env=env, capture_output=True, text=True, check=False
    )
    assert (quiet.returncode, loud.returncode) == (0, 0)
    assert " INFO " not in quiet.stderr, quiet.stderr
    assert "indices ready" in loud.stderr


def test_an_explicit_log_level_setting_still_applies(
    es_settings: Settings, index_names: object
) -> None:
    env = {**_env(es_settings, index_names.prefix), "SPREADWATCH_LOG_LEVEL": "info"}  # type: ignore[attr-defined]
    done = subprocess.run(
        [SPREADWATCH, "init"], env=env, capture_output=True, text=True, check=False
    )
    assert "indices ready" in done.stderr


@pytest.mark.parametrize("delay", [0.3, 1.5])
def test_sigterm_ends_a_command_without_a_traceback(tmp_path: Path, delay: float) -> None:
    """A command stopped while it starts (imports, reaching the node) exits quietly."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    env = {
        **os.environ,
        "SPREADWATCH_ES_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "SPREADWATCH_ES_REQUEST_TIMEOUT": "60",
        "SPREADWATCH_DATA_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [SPREADWATCH, "search", "intern"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    silent.close()
    assert "Traceback" not in err
    assert process.returncode in (128 + signal.SIGTERM, -signal.SIGTERM), err


class _StoppedWhileNamed:
    """A descriptor whose `__set_name__` is where the stop lands, as a SIGTERM did in CI while
    pydantic-settings built a class during `spreadwatch search`'s imports."""

    def __init__(self, stop: BaseException) -> None:
        self.stop = stop

    def __set_name__(self, owner: type, name: str) -> None:
        raise self.stop


@pytest.mark.parametrize(
    ("stop", "exit_code", "said"),
    [(SystemExit(128 + signal.SIGTERM), 143, ""), (KeyboardInterrupt(), 130, "interrupted")],
)
def test_a_stop_python_wraps_while_a_class_is_built_still_ends_as_a_stop(
    capsys: pytest.CaptureFixture[str], stop: BaseException, exit_code: int, said: str
) -> None:
    with pytest.raises(SystemExit) as ended, fail_cleanly(debug=False):
        type("Model", (), {"field": _StoppedWhileNamed(stop)})
    assert ended.value.code == exit_code
    assert capsys.readouterr().err.strip() == (f"error: {said}" if said else "")


def test_a_runtime_error_with_an_ordinary_cause_is_still_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as ended, fail_cleanly(debug=False):
        type("Model", (), {"field": _StoppedWhileNamed(LookupError("no such field"))})
    assert ended.value.code == EXIT_FAILED
    assert "Error calling __set_name__" in capsys.readouterr().err


def _ended(script: str) -> subprocess.CompletedProcess[str]:
    """Run `script` the way `spreadwatch` runs a command: stop handling installed, inside the
    CLI's edge."""
    prelude = (
        "import signal, time\n"
        "from spreadwatch.cli import stop\n"
        "from spreadwatch.cli.context import fail_cleanly\n"
        "stop.install()\n"
        "with fail_cleanly(debug=False):\n"
    )
    body = textwrap.indent(textwrap.dedent(script), "    ")
    return subprocess.run(
        [sys.executable, "-c", prelude + body],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_stop_python_could_not_raise_where_it_landed_is_delivered_again() -> None:
    done = _ended(
        """
        class Finalised:
            def __del__(self):  # Python cannot raise from a finaliser: it prints and goes on
                signal.raise_signal(signal.SIGTERM)
                sum(range(100))
        Finalised()
        for _ in range(100):
            time.sleep(0.01)
        print("went on")
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (128 + signal.SIGTERM, "", "")


def test_a_failure_that_follows_a_stop_ends_as_the_stop() -> None:
    done = _ended(
        """
        try:
            signal.raise_signal(signal.SIGTERM)
            time.sleep(5)
        except SystemExit:  # a library turning the stop into an error of its own
            raise ValueError("String should match pattern '<unprintable str object>'")
        """
    )
    assert (done.returncode, done.stderr) == (128 + signal.SIGTERM, "")


def test_sigusr1_prints_every_threads_stack_and_the_command_goes_on(tmp_path: Path) -> None:
    """A command that seems stuck can be asked where it is (faulthandler) without stopping it."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    silent.settimeout(60)
    env = {
        **os.environ,
        "SPREADWATCH_ES_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "SPREADWATCH_ES_REQUEST_TIMEOUT": "60",
        "SPREADWATCH_DATA_DIR": str(tmp_path),
    }
    with children_take_ctrl_c():
        process = subprocess.Popen(
            [SPREADWATCH, "search", "intern"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    connection, _ = silent.accept()  # the command now waits for the node's answer
    assert process.stderr is not None
    process.send_signal(signal.SIGUSR1)
    dump: list[str] = []
    while not dump or " in <module>" not in dump[-1]:  # the main thread's outermost frame
        dump.append(process.stderr.readline())
        assert dump[-1], f"stderr ended before the stacks did: {''.join(dump)}"
    still_running = process.poll() is None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    connection.close()
    silent.close()
    assert still_running, err
    assert "most recent call first" in "".join(dump)
    assert "elastic_transport" in "".join(dump)  # the frame it waits in
    assert process.returncode == 130, err
