"""A throwaway redis-server of a test's own, on a free loopback port, that the test may stop,
start again on the same port, or pause (SIGSTOP: connections are accepted by the kernel but
nothing answers, as in a network partition) and resume.

    with RedisServer() as redis_server:
        redis_server.url            # redis://127.0.0.1:PORT/0
        redis_server.stop(); redis_server.start()
        with redis_server.paused(): ...
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time

from testsupport.harness import free_port
from testsupport.processes import stop_process_group


class RedisServer:
    def __init__(self, port: int | None = None, args: tuple[str, ...] = ()):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise FileNotFoundError("redis-server is not installed: apt-get install redis-server")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.args = args  # more redis-server options, e.g. ("--maxmemory", "2mb")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> RedisServer:
        # No persistence: a restarted server is empty, as a restarted cache pod is.
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", "/tmp", "--logfile", "", *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"redis-server not answering on port {self.port} after {timeout} s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            stop_process_group(self.process, grace_seconds=5)
            self.process = None

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self):
        self.pause()
        try:
            yield self
        finally:
            self.resume()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
