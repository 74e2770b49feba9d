"""The installed addon, ``social_crm/``, holds no fake platform server: those
are ``social_crm_demo/fake_platforms``, and its demo sources pointing at them
are ``social_crm_demo``'s demo data."""

import ast
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
ADDON = REPO / "social_crm"
DEMO_ADDON = REPO / "social_crm_demo"

#: what an HTTP server is built on in Python's standard library
SERVER_IMPORT = re.compile(r"^\s*(from|import)\s+(http\.server|socketserver|wsgiref)\b", re.MULTILINE)
LOCAL_ADDRESS = re.compile(r"127\.0\.0\.1|localhost|\[::1\]")


def manifest(addon):
    return ast.literal_eval((addon / "__manifest__.py").read_text())


def test_no_python_file_of_the_addon_serves_http():
    files = sorted(ADDON.rglob("*.py"))
    assert files
    assert not [str(path) for path in files if SERVER_IMPORT.search(path.read_text())]


def test_the_addon_outside_its_tests_never_imports_the_fake_platforms():
    code = [path for path in ADDON.rglob("*.py") if "tests" not in path.relative_to(ADDON).parts]
    assert code
    assert not [str(path) for path in code if re.search(r"fake_platforms|social_crm_demo", path.read_text())]


@pytest.mark.parametrize("kind", ["data", "demo"])
def test_the_addon_data_points_at_no_local_server(kind):
    files = manifest(ADDON).get(kind, [])
    assert files
    assert not [name for name in files if LOCAL_ADDRESS.search((ADDON / name).read_text())]


def test_the_demo_addon_holds_the_fake_platforms_and_the_demo_sources():
    assert manifest(DEMO_ADDON)["depends"] == ["social_crm"]
    assert "demo/social_source_demo.xml" in manifest(DEMO_ADDON)["demo"]
    assert (DEMO_ADDON / "fake_platforms" / "server.py").exists()
    assert not (ADDON / "loopback").exists()
