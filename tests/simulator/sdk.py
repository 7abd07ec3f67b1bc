"""The official SDK's models and deserializer, loaded without the SDK's 6 600 model imports.

``import PureCloudPlatformClientV2.models.x`` runs the package ``__init__``, which imports
every model (about 2.5 s). Here the package is mounted under a private name with a lazy
``models`` module, so only the modules a test touches are loaded (about 0.1 s); the code
that runs is the SDK's own, unchanged.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from functools import cache
from pathlib import Path
from typing import Any

ALIAS = "_genesys_sdk_lite"


@cache
def _models() -> types.ModuleType:
    spec = importlib.util.find_spec("PureCloudPlatformClientV2")
    assert spec is not None and spec.origin is not None, "PureCloudPlatformClientV2 missing"
    root = Path(spec.origin).parent
    listing = (root / "models" / "__init__.py").read_text()
    modules = {cls: mod for mod, cls in re.findall(r"^from \.(\w+) import (\w+)$", listing, re.M)}

    package = types.ModuleType(ALIAS)
    package.__path__ = [str(root)]
    models = types.ModuleType(f"{ALIAS}.models")
    models.__path__ = [str(root / "models")]

    def load(name: str) -> Any:
        if name not in modules:
            raise AttributeError(name)
        cls = getattr(importlib.import_module(f"{ALIAS}.models.{modules[name]}"), name)
        setattr(models, name, cls)
        return cls

    models.__getattr__ = load  # type: ignore[method-assign]
    package.models = models  # type: ignore[attr-defined]
    sys.modules[ALIAS] = package
    sys.modules[models.__name__] = models
    return models


def model(name: str) -> Any:
    """An instance of the SDK model ``name`` (``swagger_types``, ``attribute_map``)."""
    return getattr(_models(), name)()


@cache
def _client() -> Any:
    _models()
    api_client = importlib.import_module(f"{ALIAS}.api_client")
    # The deserializer needs no configuration; skipping __init__ avoids reading ~/.genesys*.
    return api_client.ApiClient.__new__(api_client.ApiClient)


def deserialize(body: Any, type_name: str) -> Any:
    """``body`` turned into SDK objects by the SDK's ApiClient, as for a real response."""
    return _client()._ApiClient__deserialize(body, type_name)
