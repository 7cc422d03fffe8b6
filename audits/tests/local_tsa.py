"""A local RFC 3161 timestamp authority for tests: ``openssl ts -reply`` behind a loopback HTTP handler.

The test CA and the TSA's certificate (extended key usage timeStamping, critical) are made here with
``cryptography``; ``ca_file`` is what ``verify_export.py --tsa-cert`` and ``openssl ts -verify -CAfile`` take.
Set ``failing`` to make it answer 503, as an authority that is down would.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["LocalTSA", "make_ca_and_leaf"]

CONFIG = """
[ tsa ]
default_tsa = local
[ local ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca_and_leaf(directory: Path, *, leaf_name: str, usage: x509.ObjectIdentifier) -> dict[str, Path]:
    """A test CA and a leaf it signs for ``usage``: ca.pem, <leaf>.pem, <leaf>.key in ``directory``."""
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("fmgov test CA"))
        .issuer_name(_name("fmgov test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"fmgov test {leaf_name}"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": directory / "ca.pem", "cert": directory / f"{leaf_name}.pem", "key": directory / f"{leaf_name}.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(_pem_key(leaf_key))
    return files


class LocalTSA:
    """``with LocalTSA(tmp_path) as tsa:`` serves RFC 3161 on ``tsa.url``; ``tsa.requests`` counts the queries."""

    def __init__(self, directory: Path):
        self.directory = directory
        files = make_ca_and_leaf(directory, leaf_name="tsa", usage=ExtendedKeyUsageOID.TIME_STAMPING)
        self.ca_file = files["ca"]
        (directory / "serial").write_text("01\n")
        self.config = directory / "openssl-tsa.cnf"
        self.config.write_text(CONFIG.format(dir=directory))
        self.failing = False
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"

    def reply(self, query: bytes) -> bytes:
        """``openssl ts -reply`` for one DER query (serialised: openssl updates the serial file)."""
        with self._lock, tempfile.TemporaryDirectory(dir=self.directory) as work:
            query_file, reply_file = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query_file.write_bytes(query)
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.config), "-queryfile", str(query_file)]
                + ["-out", str(reply_file)],
                check=True,
                capture_output=True,
                timeout=30,
            )
            return reply_file.read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                tsa.requests += 1
                status, body = (503, b"down") if tsa.failing else (200, tsa.reply(query))
                self.send_response(status)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def __enter__(self) -> LocalTSA:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
