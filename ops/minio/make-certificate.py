"""Make MinIO's TLS certificate for compose, once: a self-signed certificate for the names the other
containers use (minio, localhost), valid for two years and renewed when less than 30 days remain.

    python ops/minio/make-certificate.py /certs

Writes /certs/public.crt and /certs/private.key (MinIO's --certs-dir layout). The clients in compose
trust exactly this certificate (mc: its CAs folder; pgBackRest: PGBACKREST_REPO1_STORAGE_CA_FILE), so
nothing turns verification off. Runs in the app image, which has the cryptography package.
"""

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NAMES = ["minio", "localhost"]
VALID_DAYS = 730
RENEW_BEFORE_DAYS = 30


def current_certificate_is_good(certificate_path: Path, now: datetime.datetime) -> bool:
    if not certificate_path.exists():
        return False
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(NAMES) <= set(names.get_values_for_type(x509.DNSName)) and (
        certificate.not_valid_after_utc - now > datetime.timedelta(days=RENEW_BEFORE_DAYS)
    )


def make_certificate(folder: Path, now: datetime.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name) for name in NAMES] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        # Its own issuer: the clients load this very certificate as the authority they trust.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / "private.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    (folder / "public.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def main(folder: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    if current_certificate_is_good(folder / "public.crt", now):
        print(f"{folder / 'public.crt'}: still valid, kept")
        return
    make_certificate(folder, now)
    print(f"{folder / 'public.crt'}: made for {', '.join(NAMES)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
