"""Terminal output shared by the sub-commands: progress to stdout, one-line errors to stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from mast_core.errors import MastError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def say(line: str) -> None:
    out.print(line, markup=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print("[bold red]error:[/] ", end="")
    err.print(message, markup=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn MAST's own errors into one clear line and a non-zero exit, never a traceback."""
    try:
        yield
    except MastError as exc:
        fail(str(exc))


def progress_bar() -> Progress:
    """A bar on a terminal (stderr); nothing on a pipe or in CI, where it would only be noise
    — long commands also say how far they are in plain lines there."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )
