"""The studio never runs code from a file it was given.

Two kinds of check.  The source rules scan every module of the app (``app.py``, ``pages/``,
``ui/``, ``cvlib/``) with :mod:`ast`, so a regression fails here with its file and line:
``torch.load`` only with ``weights_only=True``; nothing that unpickles; YAML only through
a safe loader; every image through :func:`cvlib.data.images.load_image`; every archive through
:mod:`cvlib.data.archive`; no ``eval``/``exec``/``shell=True``; uploaded file names never
turned into paths; every file written atomically through :mod:`cvlib.storage.persist`.  The
behaviour tests then hand the studio a model folder booby-trapped with a pickle that would
create a marker file when unpickled: loading must fail with a readable
:class:`~cvlib.errors.ModelFormatError`, and the marker must never appear.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cvlib.errors import ModelFormatError, StudioError

REPO = Path(__file__).resolve().parent.parent
SCANNED = ["app.py", "pages", "ui", "cvlib"]
IMAGE_LOADER = "cvlib/data/images.py"
ARCHIVE_MODULE = "cvlib/data/archive.py"
UNPICKLING_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib",
                      "shelve", "marshal"}
UNPICKLING_CALLS = {"read_pickle", "load_learner"}
UNSAFE_YAML_CALLS = {"unsafe_load", "full_load", "unsafe_load_all", "full_load_all"}
IMAGE_DECODERS = {"imread", "read_image", "imdecode"}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader"}
UPLOAD_WIDGETS = {"file_uploader", "camera_input"}
PATH_BUILDERS = {"Path", "PurePath", "PosixPath", "PurePosixPath", "WindowsPath", "open",
                 "join", "joinpath", "with_name", "with_stem", "mkdir", "write_bytes",
                 "write_text", "copy", "copy2", "copyfile", "move", "rename", "replace"}


@dataclass(frozen=True)
class Violation:
    """One broken rule, printed as ``file:line: rule: code``."""

    file: str
    line: int
    rule: str
    code: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.code}"


def source_files() -> list[Path]:
    """Every Python module of the app and the library."""
    files: list[Path] = []
    for entry in SCANNED:
        path = REPO / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def dotted(node: ast.AST) -> str:
    """``torch.hub.load`` for the expression ``torch.hub.load``; '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def call_name(call: ast.Call) -> str:
    """The last part of what is called: ``load`` for ``torch.load(...)``."""
    return dotted(call.func).rsplit(".", 1)[-1]


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value passed as ``name=...``, if any."""
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def is_true(node: ast.expr | None) -> bool:
    """Whether ``node`` is the literal ``True``."""
    return isinstance(node, ast.Constant) and node.value is True


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Every call in a module."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def rule_torch_load(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """``torch.load`` and the hub loaders must pass ``weights_only=True``."""
    for call in calls(tree):
        name = dotted(call.func)
        if name in ("torch.load", "torch.hub.load_state_dict_from_url", "hub.load",
                    "torch.hub.load") and not is_true(keyword(call, "weights_only")):
            yield call, "torch.load without weights_only=True"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "torch" and \
                any(alias.name == "load" for alias in node.names):
            yield node, "torch.load imported bare (cannot be checked)"


def rule_no_unpickling(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """No module that unpickles is imported, and no call that does is made."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] in UNPICKLING_MODULES for name in names):
            yield node, "imports a module that unpickles"
    for call in calls(tree):
        if call_name(call) in UNPICKLING_CALLS:
            yield call, "a call that unpickles"
        allow = keyword(call, "allow_pickle")
        if call_name(call) == "load" and allow is not None and not (
                isinstance(allow, ast.Constant) and allow.value is False):
            yield call, "np.load with allow_pickle"


def rule_safe_yaml(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """``yaml.load`` only with a safe loader (``yaml.safe_load`` is the usual way)."""
    for call in calls(tree):
        if dotted(call.func) in ("yaml.load", "yaml.load_all"):
            loader = keyword(call, "Loader") or (call.args[1] if len(call.args) > 1 else None)
            if loader is None or dotted(loader).rsplit(".", 1)[-1] not in SAFE_YAML_LOADERS:
                yield call, "yaml.load without SafeLoader"
        if call_name(call) in UNSAFE_YAML_CALLS:
            yield call, "a YAML loader that runs arbitrary tags"


def rule_one_image_loader(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Images are decoded only in cvlib/data/images.py (everyone else calls load_image)."""
    for call in calls(tree):
        name = dotted(call.func)
        if name in ("Image.open", "PIL.Image.open", "PILImage.create") or \
                call_name(call) in IMAGE_DECODERS:
            yield call, "decodes an image outside cvlib.data.images.load_image"


def rule_one_archive_module(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Archives are unpacked only by cvlib/data/archive.py, which checks every entry."""
    for call in calls(tree):
        if call_name(call) in ("extractall", "unpack_archive"):
            yield call, "unpacks an archive outside cvlib.data.archive"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "tarfile" for a in node.names):
            yield node, "tarfile outside cvlib.data.archive"


def rule_no_code_from_data(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """No ``eval``/``exec`` and no shell command lines."""
    for call in calls(tree):
        if isinstance(call.func, ast.Name) and call.func.id in ("eval", "exec"):
            yield call, f"{call.func.id}()"
        if is_true(keyword(call, "shell")):
            yield call, "subprocess with shell=True"


def rule_upload_names_are_not_paths(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """An uploaded file's ``.name`` (chosen by whoever uploads) never becomes a path.

    Uploads are the values of ``st.file_uploader`` / ``st.camera_input`` (and the files in
    their lists); their ``.name`` may be shown or used as a label, not joined into a path.
    """
    uploads = upload_variables(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "name"
                and isinstance(node.value, ast.Name) and node.value.id in uploads):
            builder = path_building_ancestor(node, parents)
            if builder is not None:
                yield builder, "an uploaded file name used to build a path"


def upload_variables(tree: ast.AST) -> set[str]:
    """Names bound to an upload widget's value, or iterating over one."""
    uploads: set[str] = set()
    for node in ast.walk(tree):
        value = getattr(node, "value", None)
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and \
                isinstance(value, ast.Call) and call_name(value) in UPLOAD_WIDGETS:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            uploads.update(t.id for t in targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.comprehension) and \
                isinstance(node.iter, ast.Name) and node.iter.id in uploads and \
                isinstance(node.target, ast.Name):
            uploads.add(node.target.id)
    return uploads


def path_building_ancestor(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    """The enclosing path construction (``Path(..)``, ``a / b``, ``open(..)``...), if any."""
    current = parents.get(node)
    while current is not None and not isinstance(current, ast.stmt):
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.Div):
            return current
        if isinstance(current, ast.Call) and call_name(current) in PATH_BUILDERS:
            return current
        current = parents.get(current)
    return None


def rule_writes_are_atomic(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Files are written through cvlib.storage.persist (temporary file, fsync, rename), so a kill
    mid-write never leaves half a file where a whole one was."""
    for call in calls(tree):
        name = call_name(call)
        if name in ("write_text", "write_bytes"):
            yield call, "a plain write (use cvlib.storage.persist.atomic_write_*)"
        if name == "open":
            mode = keyword(call, "mode") or next(
                (arg for arg in call.args if isinstance(arg, ast.Constant)
                 and isinstance(arg.value, str) and set(arg.value) <= set("rwabxt+")), None)
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+"):
                yield call, "a file opened for writing (use cvlib.storage.persist.atomic_write_*)"


RULES: dict[str, Callable[[ast.AST], Iterator[tuple[ast.AST, str]]]] = {
    "torch_load": rule_torch_load,
    "no_unpickling": rule_no_unpickling,
    "safe_yaml": rule_safe_yaml,
    "one_image_loader": rule_one_image_loader,
    "one_archive_module": rule_one_archive_module,
    "no_code_from_data": rule_no_code_from_data,
    "upload_names_are_not_paths": rule_upload_names_are_not_paths,
    "writes_are_atomic": rule_writes_are_atomic,
}
EXEMPT = {
    "one_image_loader": {IMAGE_LOADER},
    "one_archive_module": {ARCHIVE_MODULE},
    # storage/persist.py is the atomic writer; data/archive.py writes into a staging folder that is
    # renamed into place whole; serving/server.py writes its server log and, inside a staging
    # folder, its environment's marker.
    "writes_are_atomic": {"cvlib/storage/persist.py", ARCHIVE_MODULE, "cvlib/serving/server.py"},
}


def check_source(text: str, rule: str, file: str = "<test>") -> list[Violation]:
    """Violations of one rule in a module's source."""
    tree = ast.parse(text)
    lines = text.splitlines()
    return [Violation(file, node.lineno, message, lines[node.lineno - 1].strip())
            for node, message in RULES[rule](tree)]


@pytest.mark.parametrize("rule", RULES)
def test_the_source_tree_follows_the_rule(rule):
    violations = []
    for path in source_files():
        relative = path.relative_to(REPO).as_posix()
        if relative not in EXEMPT.get(rule, set()):
            violations += check_source(path.read_text(encoding="utf-8"), rule, relative)
    assert not violations, "\n".join(map(str, violations))


def test_the_scan_covers_the_app_the_pages_the_ui_and_the_library():
    scanned = {path.relative_to(REPO).as_posix() for path in source_files()}
    assert {"app.py", "pages/01_Training_introduction.py", "ui/datasets.py",
            "cvlib/models/checkpoint.py", "cvlib/serving/scoring/handler.py"} <= scanned


@pytest.mark.parametrize(("rule", "bad", "good"), [
    ("torch_load", "torch.load(path)", "torch.load(path, map_location='cpu', weights_only=True)"),
    ("torch_load", "torch.load(path, weights_only=False)", "torch.load(p, weights_only=True)"),
    ("torch_load", "from torch import load", "from torch import nn"),
    ("no_unpickling", "import pickle", "import json"),
    ("no_unpickling", "from joblib import load", "from json import load"),
    ("no_unpickling", "np.load(path, allow_pickle=True)", "np.load(path, allow_pickle=False)"),
    ("no_unpickling", "learn = load_learner(path)", "learn = make_learner(path)"),
    ("no_unpickling", "df = pd.read_pickle(path)", "df = pd.read_csv(path)"),
    ("safe_yaml", "yaml.load(text)", "yaml.safe_load(text)"),
    ("safe_yaml", "yaml.load(text, Loader=yaml.Loader)", "yaml.load(text, yaml.SafeLoader)"),
    ("safe_yaml", "yaml.unsafe_load(text)", "yaml.safe_dump(data)"),
    ("one_image_loader", "img = Image.open(path)", "img = load_image(path)"),
    ("one_image_loader", "img = cv2.imread(path)", "img = load_image(path)"),
    ("one_archive_module", "zipfile.ZipFile(f).extractall(dest)", "extract_zip(f, dest)"),
    ("no_code_from_data", "eval(text)", "model.eval()"),
    ("no_code_from_data", "subprocess.run(cmd, shell=True)", "subprocess.run([exe, arg])"),
    ("writes_are_atomic", "path.write_text(text)", "atomic_write_text(path, text)"),
    ("writes_are_atomic", "open(path, 'w')", "open(path, encoding='utf-8')"),
    ("writes_are_atomic", "path.open(mode='ab')", "path.open('rb')"),
    ("upload_names_are_not_paths",
     "up = st.file_uploader('x')\nPath(home / up.name).write_bytes(up.getvalue())",
     "up = st.file_uploader('x')\nload_image(up.getvalue(), up.name)"),
    ("upload_names_are_not_paths",
     "ups = st.file_uploader('x', accept_multiple_files=True)\n"
     "for f in ups:\n    (folder / f.name).write_bytes(f.read())",
     "ups = st.file_uploader('x', accept_multiple_files=True)\n"
     "for f in ups:\n    st.caption(f.name)"),
    ("upload_names_are_not_paths",
     "if (up := st.camera_input('x')):\n    open(up.name, 'wb')",
     "if (up := st.camera_input('x')):\n    st.image(up)"),
])
def test_each_rule_catches_its_regression_and_passes_the_safe_form(rule, bad, good):
    assert check_source(bad, rule), f"{rule} missed: {bad}"
    assert not check_source(good, rule), f"{rule} wrongly flagged: {good}"


# ---- behaviour: booby-trapped model folders --------------------------------------------

class Trap:
    """Unpickling this creates a folder at ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


@pytest.fixture
def model_json() -> dict:
    """A valid model.json for a 2-class EfficientNet-Lite0."""
    from cvlib.models.checkpoint import make_meta
    from cvlib.training.config import TrainConfig

    config = TrainConfig(architecture="efficientnet_lite0", image_size=224)
    return make_meta(architecture="efficientnet_lite0", classes=["cat", "dog"],
                     multi_label=False, preprocessing=config.preprocessing(),
                     views=("identity",))


def trapped_folder(folder: Path, meta: dict, weights: bytes) -> Path:
    """A model folder with a real model.json and the given bytes as its weights file."""
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def torch_pickle(obj) -> bytes:
    """``obj`` as ``torch.save`` writes it (a zip with a pickle inside)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("dump", [pickle.dumps, torch_pickle], ids=["pickle", "torch.save"])
def test_a_pickle_posing_as_weights_is_refused_and_never_run(tmp_path, model_json, dump):
    from cvlib.models.checkpoint import load_network
    from cvlib.models.inference import Predictor

    marker = tmp_path / "pwned"
    folder = trapped_folder(tmp_path / "downloaded-model", model_json,
                            dump({"state_dict": Trap(marker)}))
    for load in (load_network, Predictor.load):
        with pytest.raises(ModelFormatError) as info:
            load(folder)
        assert str(info.value).startswith(f"{folder / 'model.safetensors'}: unreadable weights")
        assert not marker.exists()


def test_a_pickle_posing_as_the_onnx_export_is_refused_and_never_run(tmp_path, model_json):
    from cvlib.models.inference import Predictor

    marker = tmp_path / "pwned"
    folder = trapped_folder(tmp_path / "m", model_json, b"")
    (folder / "model.onnx").write_bytes(pickle.dumps(Trap(marker)))
    with pytest.raises(StudioError) as info:
        Predictor.load(folder, engine="onnx")
    assert "model.onnx" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda meta: {**meta, "format": "keras/3"}, "unknown model format (expected cvlib-model/1)"),
    (lambda meta: [meta], "unknown model format (expected cvlib-model/1)"),
    (lambda meta: {k: v for k, v in meta.items() if k != "classes"}, "missing 'classes'"),
])
def test_a_model_json_in_the_wrong_format_is_explained(tmp_path, model_json, change, message):
    from cvlib.models.checkpoint import load_network
    from cvlib.storage.persist import list_model_folders

    folder = trapped_folder(tmp_path / "m", change(model_json), b"")
    with pytest.raises(ModelFormatError) as info:
        load_network(folder)
    assert str(info.value) == f"{folder / 'model.json'}: {message}"
    assert list_model_folders(tmp_path) == []


def test_a_model_json_that_is_not_json_is_explained(tmp_path, model_json):
    from cvlib.storage.persist import read_model_meta

    folder = trapped_folder(tmp_path / "m", model_json, b"")
    (folder / "model.json").write_bytes(pickle.dumps(Trap(tmp_path / "pwned")))
    with pytest.raises(ModelFormatError, match=re.escape(
            f"{folder / 'model.json'}: unreadable model description")):
        read_model_meta(folder)
    assert not (tmp_path / "pwned").exists()


def test_weights_for_another_network_are_explained(tmp_path, model_json):
    from safetensors.torch import save_model

    from cvlib.models import backbones
    from cvlib.models.checkpoint import load_network

    three_classes = backbones.create("efficientnet_lite0", num_classes=3, pretrained=False)
    folder = trapped_folder(tmp_path / "m", model_json, b"")
    save_model(three_classes, str(folder / "model.safetensors"))
    with pytest.raises(ModelFormatError, match="weights do not fit a efficientnet_lite0 with "
                                               "2 classes"):
        load_network(folder)


def test_an_uploaded_archive_is_stored_by_content_never_by_its_name(tmp_path, monkeypatch):
    from ui.datasets import save_upload

    monkeypatch.setenv("CVLIB_HOME", str(tmp_path / "home"))
    stored = save_upload("../../../.bashrc", b"PK zip bytes")
    assert stored.parent == tmp_path / "home" / "uploads"
    assert re.fullmatch(r"[0-9a-f]{16}\.zip", stored.name)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [stored.name]
