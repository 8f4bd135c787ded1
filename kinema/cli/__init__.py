"""The ``kinema`` command: parses options, builds configs, shows progress, reports errors.

Nothing here does media work; every command calls a pipeline function, imported only when
the command runs (``kinema --help`` and ``kinema info`` load no torch). Errors that kinema
expects (:class:`KinemaError`), failures of the system (a full disk, a read-only folder)
and usage mistakes print one line on stderr and exit non-zero (1 for bad input, 2 for bad
usage); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import signal
import sys
import threading

import typer

from kinema.cli import batch, codec, cuts, deblur, media, snapshot, view, vsae  # noqa: F401 - media, cuts, deblur and view register their commands
from kinema.cli.app import app
from kinema.io.atomic import discard_unfinished
from kinema.types import KinemaError

# Typer ships its own copy of click in recent releases and used click itself before:
# find the usage-error base class through the exception it does export.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_NoArgsIsHelp = getattr(sys.modules[_UsageError.__module__], "NoArgsIsHelpError", ())

app.add_typer(snapshot.app, name="snapshot")
app.add_typer(vsae.app, name="vsae")
app.add_typer(batch.app, name="batch")
app.add_typer(codec.app, name="codec")


#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130
#: Exit status after SIGTERM (128 + SIGTERM).
TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it stops as after Ctrl-C: writers remove
    their temporaries, batch workers are stopped."""


_terminated = False  # typer turns both interruptions into one exit code; this tells them apart


def _on_sigterm(signum, frame) -> None:
    global _terminated
    _terminated = True
    raise Terminated()


def _interrupted() -> int:
    """Remove what was being written, say how the run was stopped; its exit status
    (128 + the signal)."""
    discard_unfinished()  # writers abort their own; this catches one the signal reached first
    print("kinema: terminated" if _terminated else "kinema: interrupted", file=sys.stderr)
    return TERMINATED if _terminated else INTERRUPTED


def describe_os_error(exc: OSError) -> str:
    """One line for a failure of the system (disk full, read-only, permission denied)."""
    what = exc.strerror or str(exc) or type(exc).__name__
    return f"{what}: {exc.filename}" if exc.filename else what


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (also used by the tests)."""
    args = sys.argv[1:] if argv is None else list(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        status = app(args=args or ["--help"], prog_name="kinema", standalone_mode=False)
        if isinstance(status, int) and status:
            # typer turns Ctrl-C into this code, silently
            return _interrupted() if status == INTERRUPTED else status
    except KinemaError as exc:
        print(f"kinema: error: {exc}", file=sys.stderr)
        return 1
    except _NoArgsIsHelp as exc:  # a command group alone: its help, as `--help` shows it
        print(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        return 2
    except _UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "kinema"
        print(f"kinema: error: {exc.format_message()} (see '{where} --help')", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return _interrupted() if exc.exit_code == INTERRUPTED else exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted()
    except OSError as exc:  # the system refused: disk full, read-only, no permission
        print(f"kinema: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
