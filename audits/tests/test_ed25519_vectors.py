"""verify_export.py's pure standard-library Ed25519 against the RFC 8032 section 7.1 test vectors."""

import importlib.util
import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((REPO_ROOT / "tests" / "data" / "rfc8032" / "ed25519_section_7_1.json").read_text())["vectors"]


def _verifier():
    spec = importlib.util.spec_from_file_location("verify_export", REPO_ROOT / "audits" / "verify_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify_export = _verifier()


def test_all_five_vectors_are_there():
    assert [v["name"] for v in VECTORS] == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    assert len(bytes.fromhex(VECTORS[3]["message"])) == 1023


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_rfc_signatures_verify(vector):
    public, message = bytes.fromhex(vector["public_key"]), bytes.fromhex(vector["message"])
    assert verify_export.ed25519_verify(public, message, bytes.fromhex(vector["signature"]))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_any_changed_bit_fails(vector):
    public, message = bytes.fromhex(vector["public_key"]), bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])
    for index in (0, 31, 32, 63):
        bad = bytearray(signature)
        bad[index] ^= 0x01
        assert not verify_export.ed25519_verify(public, message, bytes(bad))
    assert not verify_export.ed25519_verify(public, message + b"x", signature)
    other = bytes.fromhex(VECTORS[(VECTORS.index(vector) + 1) % len(VECTORS)]["public_key"])
    assert not verify_export.ed25519_verify(other, message, signature)


def test_a_non_canonical_s_is_refused():
    """S + L verifies the same equation; RFC 8032 5.1.7 requires S < L, so a malleated signature is refused."""
    vector = VECTORS[1]
    signature = bytes.fromhex(vector["signature"])
    s = int.from_bytes(signature[32:], "little") + verify_export._L
    malleated = signature[:32] + s.to_bytes(32, "little")
    assert not verify_export.ed25519_verify(bytes.fromhex(vector["public_key"]), b"\x72", malleated)


def test_the_pem_loader_and_key_id_agree_with_fmgov(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audits.signing import key_id

    vector = VECTORS[0]
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["secret_key"]))
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "key.pub.pem"
    path.write_bytes(pem)
    loaded_id, raw = verify_export.load_public_key(str(path))
    assert raw.hex() == vector["public_key"]
    assert loaded_id == key_id(raw)
    (tmp_path / "rsa.pem").write_text("-----BEGIN PUBLIC KEY-----\nMAo=\n-----END PUBLIC KEY-----\n")
    with pytest.raises(verify_export.Refused):
        verify_export.load_public_key(str(tmp_path / "rsa.pem"))
