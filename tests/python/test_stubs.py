"""The committed classification type stubs match the generated ones and cover every public
name."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from ferrometrics import classification
from ferrometrics.functional import classification as functional

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "generate_classification_stubs.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_classification_stubs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def defined_names(path: Path) -> set:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, (ast.ClassDef, ast.FunctionDef))
    }


def test_stubs_are_up_to_date():
    generator = load_generator()
    classes_text, functions_text = generator.generate()
    message = "run `python scripts/generate_classification_stubs.py` and commit the stubs"
    assert generator.CLASSES_STUB.read_text() == classes_text, message
    assert generator.FUNCTIONS_STUB.read_text() == functions_text, message


def test_class_stub_covers_public_names():
    names = defined_names(load_generator().CLASSES_STUB)
    missing = sorted(set(classification.__all__) - names)
    assert missing == []


def test_function_stub_covers_public_names():
    names = defined_names(load_generator().FUNCTIONS_STUB)
    missing = sorted(set(functional.__all__) - names)
    assert missing == []


def test_class_docstrings_describe_value():
    for name in classification.__all__:
        doc = getattr(classification, name).__doc__
        assert doc, name
        assert not doc.startswith("TorchMetrics'"), f"{name} documents only its signature"
