"""The wired platform: settings, database engine and the services built from them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.engine import Engine

from app.ca import CertificateAuthority
from app.ca.firmware_signing import FirmwareSigner
from app.db import dispose_when_idle, make_engine
from app.identity.jwt_tokens import OIDCVerifier, TokenIssuer
from app.identity.ratelimit import LoginLimiter, Throttle
from app.live import EventHub
from app.ownership import MEMBERSHIPS
from app.settings import DEVELOPMENT_SECRET, Settings
from charging.data_transfer import DataTransferRegistry
from charging.sync import StationSync
from firmware.download_links import DownloadLinks
from firmware.downloads import derive_key
from firmware.storage import ArtifactStore, LocalArtifactStore
from pki import CARole, certificate_to_pem

if TYPE_CHECKING:
    from app.edge import CommandBus


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    tokens: TokenIssuer
    oidc: OIDCVerifier | None
    login_limiter: Throttle
    ca: CertificateAuthority
    commands: CommandBus | None = None  # set by the process role that runs a gateway
    # Who answers stations' DataTransfer (vendor id -> handler); register before or after start.
    data_transfers: DataTransferRegistry = field(default_factory=DataTransferRegistry)
    # The owners' side in this process: live events for the app, and stations kept in step.
    events: EventHub = field(default_factory=EventHub)
    station_sync: StationSync = field(init=False, repr=False)
    # Where stations fetch firmware (HTTPS token links, FTP logins): the rollouts' LocationIssuer.
    downloads: DownloadLinks = field(init=False, repr=False)
    # Firmware: where images live (settings.firmware_storage) and who signs them.
    artifacts: ArtifactStore = field(init=False, repr=False)
    firmware_signer: FirmwareSigner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.artifacts = build_artifact_store(self.settings)
        self.firmware_signer = FirmwareSigner(self.ca)
        self.station_sync = StationSync(
            self.engine,
            MEMBERSHIPS,
            commands=lambda: self.commands,
            user_ca_pem=lambda: certificate_to_pem(self.ca.authority(CARole.USER).certificate),
        )
        s = self.settings
        self.downloads = DownloadLinks(
            self.engine,
            derive_key(s.secret_key.get_secret_value()),
            public_url=s.api_url,
            ftp_host=s.ftp_public_host or s.ftp_host,
            ftp_port=s.ftp_port,
        )

    def close(self) -> None:
        """Release the database: every connection closed, after in-flight work handed it back."""
        dispose_when_idle(self.engine)


def build_artifact_store(settings: Settings) -> ArtifactStore:
    """The firmware store the settings choose: local files, or S3 through boto3."""
    if settings.firmware_storage == "s3":
        from firmware.s3_store import S3ArtifactStore, s3_client

        assert settings.firmware_s3_bucket is not None  # checked by the settings
        client = s3_client(settings.aws_region)
        return S3ArtifactStore(client, settings.firmware_s3_bucket, settings.firmware_s3_prefix)
    return LocalArtifactStore(settings.firmware_dir)


def development_secret(data_dir: Path) -> str:
    """A random secret kept under the data directory, so development never shares one."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def build_platform(settings: Settings) -> Platform:
    if settings.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
        settings = settings.model_copy(
            update={"secret_key": SecretStr(development_secret(settings.data_dir))}
        )
    oidc = None
    if settings.oidc_issuer and settings.oidc_jwks_url:
        oidc = OIDCVerifier(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience or settings.jwt_audience,
            jwks_url=settings.oidc_jwks_url,
        )
    engine = make_engine(settings.resolved_database_url)
    return Platform(
        settings=settings,
        engine=engine,
        tokens=TokenIssuer(
            secret=settings.secret_key.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=settings.access_token_ttl,
        ),
        oidc=oidc,
        login_limiter=LoginLimiter(
            max_failures=settings.login_max_failures,
            window=timedelta(seconds=settings.login_lockout_seconds),
        ),
        ca=CertificateAuthority(settings, engine),
    )
