"""The process's log: one event per line, as JSON for a log collector or as text for a person.

Every line, from this code or from a library's stdlib `logging` call, goes through one
structlog chain (a ProcessorFormatter on the root logger's handler), so no log call had to
change. A line says when (UTC), how severe, which logger and what happened; and, for work done
for an inbound HTTP request and the turn it started, that request's id. The id is a proxy's
X-Request-Id when that is a sane token, or one made here; it is sent back in the response, and
it travels into the turn with the task that takes it (contextvars).

Never what anyone wrote, and never a secret: the code logs kinds and counts, and this module is
a last net under it: a field whose name looks like a secret is masked, and so is anything
shaped like a Slack token, a bearer token or a JWT, wherever it appears in a line. Tracebacks
are plain (a rich traceback would print the values of local variables: what people typed).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")
REDACTED = "[redacted]"
# The format of the commands other than `serve`, which a person reads: a few lines each.
PLAIN_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Names of fields never shown, whatever their value: a field someone names "slack_token" or
# "Authorization" in a log call (or a library's `extra`) is masked before it is written.
_SECRET_NAME = re.compile(
    r"token|secret|passw|key|authori[sz]ation|cookie|signature|credential", re.IGNORECASE
)
# Values that are secrets by their shape, masked inside any text of a line.
_SECRET_SHAPE = re.compile(
    r"\bxox[a-z]-[A-Za-z0-9-]+"  # Slack bot and user tokens
    r"|\bxapp-[A-Za-z0-9-]+"  # Slack app-level tokens (Socket Mode)
    r"|\bBearer\s+[A-Za-z0-9._~+/=-]+"  # an Authorization header's credentials
    r"|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWTs (Bot Framework tokens)
)


def redact_secrets(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Mask fields named like secrets and secret-shaped text in every other text field."""
    for name, value in event.items():
        if _SECRET_NAME.search(name):
            event[name] = REDACTED
        elif isinstance(value, str):
            event[name] = _SECRET_SHAPE.sub(REDACTED, value)
    return event


def _without_formatter_leftovers(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """`message` and `asctime`, which another handler's formatter may have set on a record
    before this one saw it: not extras, and `message` would repeat the event."""
    event.pop("message", None)
    event.pop("asctime", None)
    return event


def _shared() -> list[Processor]:
    """What every line gets, whether it came from structlog or from stdlib logging."""
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _without_formatter_leftovers,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    import structlog

    if log_format == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=False)
    return structlog.dev.ConsoleRenderer(
        colors=_is_terminal(stream), exception_formatter=structlog.dev.plain_traceback
    )


def log_handler(log_format: LogFormat, stream: TextIO) -> logging.Handler:
    """A handler writing every record it gets to `stream` in `log_format`."""
    import structlog

    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared(),
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                _renderer(log_format, stream),
            ],
        )
    )
    return handler


def configure_logging(
    *, level: int, log_format: LogFormat, server: bool, stream: TextIO | None = None
) -> None:
    """Send every log line of this process to `stream` (stderr), in `log_format`. Like
    logging.basicConfig, this does nothing when the root logger has handlers already (a test
    runner's, or an embedding program's).

    The server's lines, and JSON for anyone, go through structlog (structlog's own loggers join
    the same chain). A one-off command's text lines are stdlib's plain format: a person reads
    its few lines, and it starts without importing structlog."""
    stream = stream or sys.stderr
    root = logging.getLogger()
    if root.handlers:
        return
    if log_format == "text" and not server:
        logging.basicConfig(level=level, format=PLAIN_TEXT, stream=stream)
        return
    import structlog

    root.addHandler(log_handler(log_format, stream))
    root.setLevel(level)
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def default_format(*, server: bool, stream: TextIO | None = None) -> LogFormat:
    """JSON for the server when its log goes to a collector (not a terminal); text for a
    person at a terminal, and for every other command, whose few lines a person reads."""
    if server and not _is_terminal(stream or sys.stderr):
        return "json"
    return "text"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
