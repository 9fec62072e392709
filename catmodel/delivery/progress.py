"""Progress of uploads and downloads: a bar on a terminal, a few plain lines in CI logs."""
import time

_BAR_WIDTH = 30
_REDRAW_SECONDS = 0.1
_LOG_STEPS = (25, 50, 75)


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


class Progress:
    """One file's transfer. ``update(done, total)`` is the stores' ProgressHook signature."""

    def __init__(self, stream, label: str, *, tty: bool):
        self.stream, self.label, self.tty = stream, label, tty
        self._last_draw = 0.0
        self._logged: set[int] = set()
        self._done = self._total = 0

    def update(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= _REDRAW_SECONDS or done >= total:
                self._last_draw = now
                self._draw()
        else:
            percent = 100 * done // total if total else 100
            for step in _LOG_STEPS:
                if percent >= step and step not in self._logged and percent < 100:
                    self._logged.add(step)
                    self._write(f"{self.label}: {step}% of {_size(total)}\n")

    def finish(self) -> None:
        if self.tty:
            self._draw()
            self._write("\n")
        else:
            self._write(f"{self.label}: done, {_size(self._done)}\n")

    def _draw(self) -> None:
        fraction = self._done / self._total if self._total else 1.0
        filled = int(_BAR_WIDTH * fraction)
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        self._write(f"\r{self.label} [{bar}] {fraction:4.0%} {_size(self._done)}")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class NoProgress:
    def update(self, done: int, total: int) -> None:
        pass

    def finish(self) -> None:
        pass


def progress_factory(stream=None, *, tty: bool | None = None):
    """A function label -> Progress writing to ``stream``; silent when ``stream`` is None."""
    if stream is None:
        return lambda label: NoProgress()
    if tty is None:
        tty = bool(getattr(stream, "isatty", lambda: False)())
    return lambda label: Progress(stream, label, tty=tty)


class CommandOutput:
    """A management command's stdout (Django's OutputWrapper) as a plain stream: the wrapper
    adds a newline to every write, which would break a bar redrawn with carriage returns."""

    def __init__(self, wrapper):
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return self._wrapper.isatty()
