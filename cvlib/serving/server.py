"""The local endpoint: our ``score.py`` served by Azure ML's own inference server on loopback.

Azure ML runs ``azureml-inference-server-http`` inside its containers.  Running the same server
here lets the studio test a deployment before it pays for one, and lets page 23 measure it
exactly as it measures an Azure endpoint.  That server cannot share the studio's environment
(its OpenTelemetry exporter pins clash with ``azure-ai-ml``'s, and its worker then fails to
boot), so it gets a small environment of its own under the studio home, created once and
reused: ONNX Runtime, Pillow and numpy, no torch, which is also what an Azure deployment
carries (see :func:`cvlib.azure.specs.serving_environment`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import venv
from dataclasses import dataclass, field
from pathlib import Path

from cvlib.errors import StudioError
from cvlib.runtime.progress import Log
from cvlib.storage.home import studio_home

#: What the serving environment holds, pinned to the versions the studio itself tests with,
#: so the local endpoint and an Azure deployment preprocess and predict alike.
SERVING_REQUIREMENTS = (
    "azureml-inference-server-http==1.5.1",
    "onnxruntime==1.32.0",
    "pillow==13.0.0",
    "numpy==2.4.6",
)
#: The torch-free part of cvlib that travels beside ``score.py``.
CODE_MODULES = (
    "cvlib/__init__.py",
    "cvlib/_lazy.py",
    "cvlib/errors.py",
    "cvlib/data/__init__.py",
    "cvlib/data/images.py",
    "cvlib/models/__init__.py",
    "cvlib/models/preprocess.py",
    "cvlib/serving/__init__.py",
    "cvlib/serving/scoring/__init__.py",
    "cvlib/serving/scoring/handler.py",
)
ENTRY_SCRIPT = "score.py"
SERVING_FILES = ("model.json", "model.onnx")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_MARKER = "cvlib-serving-requirements.txt"


class ServingError(StudioError):
    """The local endpoint could not be prepared, started or reached."""


def serving_env_dir() -> Path:
    """The serving environment's folder, shared by the app, the CLI and the tests.

    ``$CVLIB_SERVING_ENV`` overrides it, so a test session with a scratch studio home can
    still reuse one environment instead of installing it again.
    """
    return Path(os.environ.get("CVLIB_SERVING_ENV") or studio_home() / "serving-env")


def env_python(env_dir: Path) -> Path:
    """The interpreter of a virtual environment."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def serving_env_ready(env_dir: Path | None = None) -> bool:
    """Whether the environment exists with exactly :data:`SERVING_REQUIREMENTS`."""
    env_dir = env_dir or serving_env_dir()
    marker = env_dir / _MARKER
    return (env_python(env_dir).exists() and marker.is_file()
            and marker.read_text(encoding="utf-8").split() == list(SERVING_REQUIREMENTS))


def ensure_serving_env(env_dir: Path | None = None, log: Log = print) -> Path:
    """Create the serving environment once (about 260 MB, half a minute), then reuse it.

    It is built in a staging folder and renamed into place, so an interrupted install is
    never mistaken for a finished one.  Returns the environment's Python.
    """
    env_dir = env_dir or serving_env_dir()
    if serving_env_ready(env_dir):
        return env_python(env_dir)
    staging = env_dir.with_name(f"{env_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    log(f"Creating the serving environment in {env_dir} (first use only)")
    venv.EnvBuilder(with_pip=True, clear=True).create(staging)
    _pip_install(env_python(staging), SERVING_REQUIREMENTS, log)
    (staging / _MARKER).write_text("\n".join(SERVING_REQUIREMENTS) + "\n", encoding="utf-8")
    shutil.rmtree(env_dir, ignore_errors=True)
    staging.rename(env_dir)
    log("Serving environment ready")
    return env_python(env_dir)


def _pip_install(python: Path, requirements: tuple[str, ...], log: Log) -> None:
    """Install with pip, passing its progress lines on as they come."""
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
               "--progress-bar", "off", *requirements]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        lines = []
        for line in process.stdout or ():
            line = line.rstrip()
            lines.append(line)
            if line.startswith(("Collecting", "Downloading", "Installing", "Successfully")):
                log(line)
    if process.returncode:
        raise ServingError("pip could not install the serving environment:\n"
                           + "\n".join(lines[-20:]))


def build_code_folder(dest: Path) -> Path:
    """Write ``score.py`` and the torch-free part of cvlib it needs into ``dest``.

    The same folder is served locally and uploaded as a deployment's code, so what is
    tested here is what runs in Azure.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(__file__).resolve().parent / "scoring" / ENTRY_SCRIPT, dest / ENTRY_SCRIPT)
    for module in CODE_MODULES:
        target = dest / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_PACKAGE_ROOT / module, target)
    return dest


def ensure_onnx(model_dir: Path, log: Log = print) -> Path:
    """The model's ONNX export, made now (with torch) if the folder has none yet."""
    onnx_path = model_dir / "model.onnx"
    if not onnx_path.is_file():
        from cvlib.models.inference import export_onnx

        log(f"Exporting {model_dir.name} to ONNX for serving")
        onnx_path = export_onnx(model_dir)
    return onnx_path


def port_free(host: str, port: int) -> bool:
    """Whether nothing is listening on ``host:port`` yet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


@dataclass
class LocalEndpoint:
    """A running inference server process, with its scoring URI and log file."""

    process: subprocess.Popen
    host: str
    port: int
    log_path: Path
    code_dir: Path
    model_dir: Path
    started: float = field(default_factory=time.time)

    @property
    def scoring_uri(self) -> str:
        """Where to ``POST`` requests, as for an Azure endpoint."""
        return f"http://{self.host}:{self.port}/score"

    @property
    def health_uri(self) -> str:
        """The liveness probe Azure ML also uses."""
        return f"http://{self.host}:{self.port}/"

    def running(self) -> bool:
        """Whether the server process is still alive."""
        return self.process.poll() is None

    def logs(self, last: int = 60) -> str:
        """The server's last lines of output (startup, requests, errors)."""
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-last:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its workers (their own process group)."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)


def start_local_endpoint(model_dir: str | Path, host: str = "127.0.0.1", port: int = 5001,
                         workers: int = 1, log: Log = print,
                         startup_timeout: float = 120.0) -> LocalEndpoint:
    """Serve a saved model on ``host:port`` and return once it answers its health probe.

    Runs gunicorn on the inference server's WSGI app directly, because the server's own
    launcher always binds every interface; here it listens on loopback only by default.
    """
    model_dir = Path(model_dir).resolve()
    ensure_onnx(model_dir, log)
    if not port_free(host, port):
        raise ServingError(f"port {port} on {host} is already in use: stop what runs there "
                           "or pick another port")
    python = ensure_serving_env(log=log)
    run_dir = studio_home() / "local-endpoint" / f"{port}"
    shutil.rmtree(run_dir, ignore_errors=True)
    code_dir = build_code_folder(run_dir / "code")
    log_path = run_dir / "server.log"
    env = {**_clean_env(), "AZUREML_ENTRY_SCRIPT": str(code_dir / ENTRY_SCRIPT),
           "AZUREML_MODEL_DIR": str(model_dir), "AML_APP_ROOT": str(code_dir),
           "AML_APP_INSIGHTS_ENABLED": "false", "SERVICE_NAME": "cvlib-local"}
    command = [str(python), "-m", "gunicorn", "-b", f"{host}:{port}", "-w", str(workers),
               "--timeout", "300", "--access-logfile", "-",
               "azureml_inference_server_http.server.entry:app"]
    log(f"Starting the inference server on {host}:{port}")
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, cwd=code_dir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = LocalEndpoint(process, host, port, log_path, code_dir, model_dir)
    _wait_healthy(endpoint, startup_timeout)
    try:
        log(f"Local endpoint ready: {endpoint.scoring_uri}")
    except BaseException:  # a Stop pressed at the last moment: leave no server running
        endpoint.stop()
        raise
    return endpoint


def _clean_env() -> dict[str, str]:
    """The caller's environment without Python settings that would leak our venv in."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _wait_healthy(endpoint: LocalEndpoint, timeout: float) -> None:
    """Poll the health probe; on failure stop the server and show why from its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not endpoint.running():
            break
        try:
            with urllib.request.urlopen(endpoint.health_uri, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    endpoint.stop()
    raise ServingError("the local endpoint did not start; its log ends with:\n"
                       + endpoint.logs(30))


def serve(model_dir: str | Path, host: str = "127.0.0.1", port: int = 5001, workers: int = 1,
          log: Log = print) -> None:
    """``python -m cvlib serve``: serve until interrupted (Ctrl-C), then stop cleanly."""
    endpoint = start_local_endpoint(model_dir, host, port, workers, log)
    log('POST {"data": [<base64 image>, ...]} to ' + endpoint.scoring_uri + "  (Ctrl-C stops)")
    try:
        while endpoint.running():
            time.sleep(0.5)
        log("The server stopped; its log ends with:\n" + endpoint.logs(30))
    except KeyboardInterrupt:
        log("Stopping the local endpoint")
    finally:
        endpoint.stop()


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``python -m cvlib serve --model DIR [--host H] [--port P] [--workers N]``."""
    parser = subparsers.add_parser(
        "serve", help="serve a saved model with Azure ML's inference server on this machine")
    parser.add_argument("--model", required=True, help="saved model folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=1)
    parser.set_defaults(func=lambda args: serve(args.model, args.host, args.port, args.workers))
