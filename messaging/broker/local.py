"""A real single-node Apache Kafka broker (KRaft, broker and controller in one JVM) for one
machine, assembled from Maven Central and run on the machine's Java.

Layout under the state folder (``MAST_STATE_DIR``)::

    kafka/server.properties   written at every start from the settings
    kafka/log4j2.properties   broker logs go to kafka/logs/, not to the terminal
    kafka/data/               KRaft metadata and topic data, formatted once
    kafka/broker.pid          the running broker's pid; stale after an unclean kill

The class path (kafka_2.13 and its runtime dependencies) is copied by Maven once into the
cache folder (``MAST_CACHE_DIR``/kafka-<version>/libs) so that later starts need no network.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mast_core.errors import SetupError
from mast_core.settings import Settings

POM = Path(__file__).resolve().parent / "pom.xml"
_COMPLETE_MARKER = ".complete"
_BROKER_MAIN = "kafka.Kafka"

_JAVA_HINT = "Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
_Say = Callable[[str], None]
"""A progress callback: one line of text for a person."""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    accepting: bool
    message: str


def _require(tool: str, install_hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SetupError(f"{tool} not found on PATH: install {install_hint}")
    return path


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64.

    One id in 64 would start with "-", which the storage tool's argument parser takes for an
    option ("--cluster-id: expected one argument"); those are drawn again.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class LocalKafka:
    """Start, stop and inspect the local broker. Every method is safe to call in any state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.kafka_dir
        self.data_dir = self.home / "data"
        self.log_dir = self.home / "logs"
        self.pid_file = self.home / "broker.pid"
        self.config_file = self.home / "server.properties"
        self.log4j_file = self.home / "log4j2.properties"
        self.libs_dir = settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"

    # Assembly ---------------------------------------------------------------------------------
    def assemble(self, *, say: _Say = print) -> Path:
        """Copy kafka_2.13 and its runtime dependencies from Maven Central, once."""
        if (self.libs_dir / _COMPLETE_MARKER).exists():
            return self.libs_dir
        mvn = _require("mvn", "Maven (Debian: apt-get install maven)")
        _require("java", _JAVA_HINT)
        say(f"Assembling Apache Kafka {self.settings.kafka_version} from Maven Central (once)…")
        staging = self.libs_dir.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        command = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            f"-Dkafka.version={self.settings.kafka_version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise SetupError(f"Maven could not assemble Kafka:\n{tail}")
        (staging / _COMPLETE_MARKER).touch()
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        staging.rename(self.libs_dir)
        say(f"Kafka class path cached in {self.libs_dir}")
        return self.libs_dir

    # Configuration ----------------------------------------------------------------------------
    def server_properties(self) -> str:
        s = self.settings
        listeners = (
            f"PLAINTEXT://127.0.0.1:{s.kafka_broker_port},"
            f"CONTROLLER://127.0.0.1:{s.kafka_controller_port}"
        )
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{s.kafka_controller_port}",
            "listeners": listeners,
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{s.kafka_broker_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir.resolve()),
            "num.partitions": str(s.topic_partitions),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "3",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created by MAST's own code with their partitions and retention.
            "auto.create.topics.enable": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in lines.items())

    def log4j_properties(self) -> str:
        log_file = (self.log_dir / "server.log").resolve()
        return (
            "status = warn\n"
            "appender.file.type = RollingFile\n"
            "appender.file.name = file\n"
            f"appender.file.fileName = {log_file}\n"
            f"appender.file.filePattern = {log_file}.%i\n"
            "appender.file.layout.type = PatternLayout\n"
            "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
            "appender.file.policies.type = Policies\n"
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy\n"
            "appender.file.policies.size.size = 20MB\n"
            "appender.file.strategy.type = DefaultRolloverStrategy\n"
            "appender.file.strategy.max = 3\n"
            "rootLogger.level = info\n"
            "rootLogger.appenderRef.file.ref = file\n"
            "logger.kafka.name = kafka\n"
            "logger.kafka.level = info\n"
            "logger.state.name = state.change.logger\n"
            "logger.state.level = warn\n"
        )

    def _java_command(self, main: str, *args: str) -> list[str]:
        java = _require("java", _JAVA_HINT)
        return [
            java,
            f"-Xms{self.settings.kafka_heap}",
            f"-Xmx{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_file.resolve()}",
            "-cp",
            str(self.libs_dir.resolve() / "*"),
            main,
            *args,
        ]

    def _write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.server_properties(), encoding="utf-8")
        self.log4j_file.write_text(self.log4j_properties(), encoding="utf-8")

    def _format_storage_once(self, say: _Say) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        say(f"Formatting KRaft storage in {self.data_dir}")
        result = subprocess.run(
            self._java_command(
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                cluster_id,
                "-c",
                str(self.config_file.resolve()),
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SetupError(f"Kafka storage format failed: {result.stdout}{result.stderr}".strip())

    # Process control --------------------------------------------------------------------------
    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _is_our_broker(self, pid: int) -> bool:
        """True only for a live JVM running kafka.Kafka with this state folder's config, so a
        recycled pid is never mistaken for the broker (and never signalled)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return False
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie is already dead
            return False
        config = str(self.config_file.resolve()).encode()
        return _BROKER_MAIN.encode() in cmdline and config in cmdline

    def _port_in_use(self, port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def _port_free_within(self, port: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while self._port_in_use(port):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def _accepting(self, timeout: float = 3.0) -> bool:
        from confluent_kafka.admin import AdminClient

        if not self._port_in_use(self.settings.kafka_broker_port):
            return False
        admin = AdminClient(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "socket.timeout.ms": 2000,
                "log_level": 0,  # a probe: refused connections while starting are expected
            }
        )
        try:
            metadata = admin.list_topics(timeout=timeout)
        except Exception:  # KafkaException while the broker is still coming up
            return False
        return bool(metadata.brokers)

    def status(self) -> BrokerStatus:
        pid = self._read_pid()
        if pid is not None and self._is_our_broker(pid):
            accepting = self._accepting()
            state = "accepting clients" if accepting else "not yet accepting clients"
            return BrokerStatus(
                True,
                pid,
                accepting,
                f"Kafka is running (pid {pid}) on {self.settings.kafka_bootstrap}, {state}",
            )
        if pid is not None:
            return BrokerStatus(
                False, None, False, f"Kafka is not running (stale pid file for pid {pid})"
            )
        return BrokerStatus(False, None, False, "Kafka is not running")

    def start(self, *, say: _Say = print) -> BrokerStatus:
        """Start the broker and wait until it accepts clients; a no-op if it already runs."""
        pid = self._read_pid()
        if pid is not None and self._is_our_broker(pid):
            say(f"Kafka is already running (pid {pid}) on {self.settings.kafka_bootstrap}")
            self._wait_until_accepting(pid)
            return self.status()
        if pid is not None:
            say(f"Found a stale pid file (pid {pid} is gone: last stop was not clean); recovering")
            self.pid_file.unlink(missing_ok=True)
        _require("java", _JAVA_HINT)
        # A broker that was just killed may hold its sockets for a moment while its threads
        # exit; give it that moment before blaming another program.
        grace = 15.0 if pid is not None else 0.0
        for port in (self.settings.kafka_broker_port, self.settings.kafka_controller_port):
            if not self._port_free_within(port, grace):
                raise SetupError(
                    f"port {port} on 127.0.0.1 is taken by another program; stop it or set "
                    "MAST_KAFKA_BROKER_PORT / MAST_KAFKA_CONTROLLER_PORT (and MAST_KAFKA_BOOTSTRAP)"
                )
        self.assemble(say=say)
        self._write_config()
        self._format_storage_once(say)
        stdout = (self.log_dir / "stdout.log").open("ab")
        process = subprocess.Popen(
            self._java_command(_BROKER_MAIN, str(self.config_file.resolve())),
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal that started it must not kill it
            cwd=self.home,
        )
        stdout.close()
        self.pid_file.write_text(f"{process.pid}\n")
        say(f"Starting Kafka {self.settings.kafka_version} (pid {process.pid})…")
        self._wait_until_accepting(process.pid, process)
        say(f"Kafka is accepting clients on {self.settings.kafka_bootstrap}")
        return self.status()

    def _wait_until_accepting(
        self, pid: int, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        deadline = time.monotonic() + self.settings.kafka_start_timeout_s
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise SetupError(
                    f"Kafka exited with code {process.returncode} during start-up; "
                    f"last lines of its log:\n{self.log_tail()}"
                )
            if process is None and not self._is_our_broker(pid):
                raise SetupError("Kafka stopped while waiting for it to accept clients")
            if self._accepting(timeout=2.0):
                return
            time.sleep(0.5)
        raise SetupError(
            f"Kafka did not accept clients within {self.settings.kafka_start_timeout_s:.0f}s; "
            f"last lines of its log:\n{self.log_tail()}"
        )

    def stop(self, *, timeout: float = 30.0, say: _Say = print) -> bool:
        """Controlled shutdown with SIGTERM, SIGKILL after ``timeout``. True if one was stopped."""
        pid = self._read_pid()
        if pid is None or not self._is_our_broker(pid):
            if pid is not None:
                self.pid_file.unlink(missing_ok=True)
                say(f"Kafka was not running (removed stale pid file for pid {pid})")
            else:
                say("Kafka is not running; nothing to stop")
            return False
        say(f"Stopping Kafka (pid {pid})…")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._is_our_broker(pid):
            _reap(pid)
            time.sleep(0.2)
        if self._is_our_broker(pid):
            say(f"Kafka did not stop within {timeout:.0f}s; killing it")
            os.kill(pid, signal.SIGKILL)
            while self._is_our_broker(pid):
                _reap(pid)
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        say("Kafka stopped")
        return True

    def log_tail(self, lines: int = 20) -> str:
        parts = []
        for name in ("stdout.log", "server.log"):
            path = self.log_dir / name
            if path.exists():
                parts.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(parts[-lines:]) or "(no log output)"


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the broker, so it is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
