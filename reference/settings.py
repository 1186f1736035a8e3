"""Settings of the reference server, read from command-line flags and ``RAM_MONITOR_*`` variables.

Every setting has a flag (``--max-streams``) and an environment variable (``RAM_MONITOR_MAX_STREAMS``);
a flag wins over the variable, the variable over the default. Values are checked here, once, so the
rest of the package can trust them; a bad value becomes a :class:`ConfigError` carrying one line for
the user (``__main__`` prints it and exits 2) instead of a traceback from deep inside uvicorn.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from conformance import __version__

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VUE_FILE_NAME = "vue.esm-browser.prod.js"


def packaged_dir(name: str) -> Path:
    """A folder shipped inside the ``reference`` package (``static``, ``vendor``), found through
    importlib.resources so it is right in a checkout, an editable install and a wheel alike."""
    return Path(str(resources.files("reference").joinpath(name)))


def default_vue_dir() -> Path:
    """Where Vue's browser build is: the copy a wheel carries (``reference/vendor/``, put there
    by hatch_build.py from the npm package), else a checkout's ``node_modules/vue/dist``."""
    vendor = packaged_dir("vendor")
    if (vendor / VUE_FILE_NAME).is_file():
        return vendor
    return PROJECT_ROOT / "node_modules" / "vue" / "dist"


ENV_PREFIX = "RAM_MONITOR_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class ConfigError(ValueError):
    """A setting the server cannot run with; ``str()`` is the one line shown to the user."""


def _to_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _to_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _to_path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def _to_level(text: str) -> str:
    return text.strip().lower()


def _setting(default: Any, convert: Callable[[str], Any], metavar: str, help: str) -> Any:
    """A field of :class:`Settings` with everything its flag and variable need, in one place."""
    return dataclasses.field(
        default=default, metadata={"convert": convert, "metavar": metavar, "help": help}
    )


@dataclass(frozen=True)
class Settings:
    """Everything the app and the server need; frozen so one run sees one configuration.

    Each field declares its default, how its text converts, its metavar and its help once; the
    flags (``--max-streams``) and variables (``RAM_MONITOR_MAX_STREAMS``) are generated from them.
    """

    host: str = _setting(
        "127.0.0.1", str, "HOST", "interface to bind (default 127.0.0.1: loopback only)"
    )
    port: int = _setting(8000, int, "PORT", "TCP port (default 8000)")
    interval: float = _setting(1.0, _to_float, "SECONDS", "seconds between samples (default 1.0)")
    samples: int = _setting(
        20, int, "N", "samples per run; a run is samples + 2 messages (default 20)"
    )
    max_streams: int = _setting(
        5000, int, "N", "open streams beyond which new ones get 503 (default 5000)"
    )
    # A client whose socket stops draining blocks ``send``; after this many seconds it is dropped.
    send_timeout: float = _setting(
        5.0,
        _to_float,
        "SECONDS",
        "seconds a blocked send may take before the client is dropped (default 5)",
    )
    # Ticks a stream may fall behind the sampler before it is dropped (bounds memory per client).
    # None: enough ticks to cover send_timeout (see inbox_size), so a fast interval does not drop a
    # client that merely paused for a few ticks on a busy machine.
    queue_size: int | None = _setting(
        None,
        int,
        "N",
        "ticks a stream may fall behind before it is dropped "
        "(default: as many as send-timeout spans, 4 to 256)",
    )
    # Seconds after SIGINT/SIGTERM by which the process has exited, streams ended or not.
    shutdown_timeout: float = _setting(
        1.0,
        _to_float,
        "SECONDS",
        "exit at the latest this many seconds after SIGINT/SIGTERM (default 1.0)",
    )
    static_dir: Path = _setting(  # noqa: RUF009 (a field with metadata)
        packaged_dir("static"),
        _to_path,
        "DIR",
        "folder of the page (default: the page shipped in the package, reference/static/)",
    )
    vue_dir: Path = _setting(  # noqa: RUF009 (a field with metadata)
        default_vue_dir(),
        _to_path,
        "DIR",
        f"folder holding {VUE_FILE_NAME} (default: the wheel's copy, else node_modules/vue/dist)",
    )
    max_head_bytes: int = _setting(
        16384, int, "BYTES", "longest request head (request line and headers); longer: 431"
    )
    head_timeout: float = _setting(
        5.0, _to_float, "SECONDS", "seconds a client may take to send its request head (default 5)"
    )
    allowed_hosts: tuple[str, ...] = _setting(
        (),
        lambda text: tuple(h.strip().lower() for h in text.split(",") if h.strip()),
        "HOSTS",
        "comma-separated Host names the server answers (e.g. ram.example,*.example; "
        "default: any); others get 400",
    )
    log_level: str = _setting(
        "info", _to_level, "LEVEL", f"one of {', '.join(LOG_LEVELS)} (default info)"
    )
    access_log: bool = _setting(
        True, _to_bool, "BOOL", "log every request: true/false (default true)"
    )

    def __post_init__(self) -> None:
        _check(1 <= self.port <= 65535, f"port must be from 1 to 65535, got {self.port}")
        _check(bool(self.host.strip()), "host must not be empty")
        _check(
            math.isfinite(self.interval) and 0 < self.interval <= 3600,
            f"interval must be a number of seconds > 0 and <= 3600, got {self.interval}",
        )
        _check(
            1 <= self.samples <= 1_000_000, f"samples must be from 1 to 1000000, got {self.samples}"
        )
        _check(self.max_streams >= 1, f"max-streams must be at least 1, got {self.max_streams}")
        _check(
            math.isfinite(self.send_timeout) and self.send_timeout > 0,
            f"send-timeout must be a number of seconds > 0, got {self.send_timeout}",
        )
        _check(
            self.queue_size is None or self.queue_size >= 1,
            f"queue-size must be at least 1, got {self.queue_size}",
        )
        _check(
            math.isfinite(self.shutdown_timeout) and 0 < self.shutdown_timeout <= 60,
            f"shutdown-timeout must be > 0 and <= 60 seconds, got {self.shutdown_timeout}",
        )
        _check(
            1024 <= self.max_head_bytes <= 1 << 20,
            f"max-head-bytes must be from 1024 to 1048576, got {self.max_head_bytes}",
        )
        _check(
            math.isfinite(self.head_timeout) and 0 < self.head_timeout <= 300,
            f"head-timeout must be > 0 and <= 300 seconds, got {self.head_timeout}",
        )
        _check(
            self.log_level in LOG_LEVELS,
            f"log-level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}",
        )
        _check(self.static_dir.is_dir(), f"static-dir {self.static_dir} is not a directory")

    @property
    def inbox_size(self) -> int:
        """Ticks a stream may fall behind: the explicit ``queue_size``, else as many ticks as
        ``send_timeout`` spans, at least 4 and at most 256 (about 25 KiB per stalled client)."""
        if self.queue_size is not None:
            return self.queue_size
        return max(4, min(256, math.ceil(self.send_timeout / self.interval) + 1))

    @property
    def total_messages(self) -> int:
        """Message 0 (the greeting), one per sample, and the sentinel."""
        return self.samples + 2


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def env_name(field: str) -> str:
    """``max_streams`` -> ``RAM_MONITOR_MAX_STREAMS``."""
    return ENV_PREFIX + field.upper()


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def _parser() -> _Parser:
    parser = _Parser(
        prog="ram-monitor",
        description="Reference SSE server: streams the machine's RAM usage at GET /api/stream.",
        epilog=f"Every flag can also be set by an environment variable {ENV_PREFIX}<NAME>, "
        f"e.g. {env_name('max_streams')}=100; a flag wins over the variable.",
    )
    parser.add_argument("--version", action="version", version=f"ram-monitor {__version__}")
    for field in fields(Settings):
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(
            flag, dest=field.name, metavar=field.metadata["metavar"], help=field.metadata["help"]
        )
    return parser


def _convert(name: str, text: str, source: str) -> Any:
    convert: Callable[[str], Any] = {f.name: f.metadata["convert"] for f in fields(Settings)}[name]
    try:
        return convert(text)
    except ValueError:
        raise ConfigError(f"{source}: invalid value {text!r}") from None


def parse_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from flags, then environment, then defaults; raises :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    namespace = _parser().parse_args(list(argv) if argv is not None else None)
    values: dict[str, Any] = {}
    for field in fields(Settings):
        flag_value = getattr(namespace, field.name)
        if flag_value is not None:
            values[field.name] = _convert(
                field.name, flag_value, "--" + field.name.replace("_", "-")
            )
        elif env_name(field.name) in environ:
            values[field.name] = _convert(
                field.name, environ[env_name(field.name)], env_name(field.name)
            )
    return Settings(**values)
