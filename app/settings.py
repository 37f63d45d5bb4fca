"""One settings class for every process role, read from ``CHARGELINE_*`` variables and flags."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105
SSO_ROLES = frozenset({"admin", "support", "manufacturing"})
"""The roles single sign-on may grant: the dashboard's."""


class Settings(BaseSettings):
    """Platform settings.

    Development mode (the default for ``chargeline serve``) runs on embedded defaults: SQLite and
    files under ``data_dir``. Any other mode refuses to start with the development secret.
    """

    model_config = SettingsConfigDict(env_prefix="CHARGELINE_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    code_pepper: SecretStr | None = None
    """HMAC key for the stored security-code hashes; derived from ``secret_key`` when unset."""
    public_url: str | None = None
    app_link_base: str | None = None
    """Where mailed links point (e.g. a mobile app's deep-link base); ``api_url`` when unset."""

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(default=9000, ge=0, le=65535)
    ocpp_tls_port: int = Field(default=9443, ge=0, le=65535)
    ftp_port: int = Field(default=2121, ge=0, le=65535)
    ftp_host: str = "127.0.0.1"
    ftp_public_host: str | None = None
    """The host stations are told to fetch FTP downloads from; ``ftp_host`` when unset."""
    ftp_passive_ports: str | None = Field(default=None, pattern=r"^\d{1,5}-\d{1,5}$")
    """Passive data ports as ``FIRST-LAST`` (open them in the firewall); any free one if unset."""

    heartbeat_interval: int = Field(default=300, ge=10, le=86_400)
    command_timeout: float = Field(default=30.0, gt=0, le=600)
    auto_register_stations: bool = False
    max_ocpp_frame_bytes: int = Field(default=256 * 1024, ge=16 * 1024)
    log_format: Literal["text", "json"] = "text"  # of the server terminal's log lines
    redis_url: str | None = None  # scale-out: routes commands between api and edge nodes
    edge_node_ttl: float = Field(default=10.0, gt=0, le=300)  # scale-out: a dead edge's expiry
    rollout_interval: float = Field(default=1.0, gt=0, le=600)  # seconds between worker rounds
    rollout_claim_seconds: float = Field(default=30.0, gt=0, le=3600)  # a dead worker's expiry

    jwt_issuer: str = "chargeline"
    jwt_audience: str = "chargeline"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)

    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None
    oidc_client_id: str | None = None
    """The dashboard's client at the OIDC provider: set it (and the issuer) for single sign-on."""
    oidc_client_secret: SecretStr | None = None
    dashboard_sso_name: str = Field(default="single sign-on", min_length=1, max_length=64)
    """How the login page names the provider ("Sign in with ...")."""
    oidc_role_claims: tuple[str, ...] = ("groups", "roles")
    """ID-token claims holding the provider's groups or roles; a dotted path reaches into an
    object (Keycloak's ``realm_access.roles``); ``cognito:groups`` is Cognito's."""
    oidc_role_map: dict[str, str] = {}
    """Provider value -> dashboard role, e.g. ``{"chargeline-admins": "admin"}`` (JSON in the
    environment); values not named here grant nothing."""

    allowed_origins: tuple[str, ...] = ()
    """Other browser origins (``https://host[:port]``) that may open the events socket."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "Chargeline <no-reply@chargeline.local>"
    mail_outbox: Path | None = None
    """Write mail as ``.eml`` files here instead of sending it. Development mode without an SMTP
    host or port of its own does so under ``data_dir/outbox``, so a first run needs no server."""

    operator_name: str = Field(default="Chargeline", min_length=1, max_length=64)
    ca_dir: Path | None = None
    kms_key_id: str | None = None
    aws_region: str | None = None

    firmware_storage: Literal["local", "s3"] = "local"
    """Where firmware images live: files under ``data_dir/firmware``, or an S3 bucket."""
    firmware_s3_bucket: str | None = None
    firmware_s3_prefix: str = "firmware/"
    firmware_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    """The largest firmware image an upload may carry (checked while it streams)."""

    @field_validator("oidc_role_map")
    @classmethod
    def _check_role_map(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = sorted({role for role in value.values() if role not in SSO_ROLES})
        if wrong:
            raise ValueError(
                f"CHARGELINE_OIDC_ROLE_MAP may map only to {', '.join(sorted(SSO_ROLES))}, "
                f"not {', '.join(wrong)}"
            )
        return value

    @model_validator(mode="after")
    def _check_ftp_ports(self) -> Settings:
        if self.ftp_passive_ports is not None:
            first, last = (int(part) for part in self.ftp_passive_ports.split("-"))
            if not 0 < first <= last <= 65535:
                raise ValueError(
                    f"CHARGELINE_FTP_PASSIVE_PORTS must be FIRST-LAST with 1 <= FIRST <= LAST "
                    f"<= 65535, not {self.ftp_passive_ports}"
                )
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.mode != "development":
            if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
                raise ValueError(
                    "CHARGELINE_SECRET_KEY must be set outside development mode "
                    "(the built-in development secret is refused)"
                )
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("CHARGELINE_SECRET_KEY must be at least 32 characters")
            if self.code_pepper is not None and len(self.code_pepper.get_secret_value()) < 32:
                raise ValueError("CHARGELINE_CODE_PEPPER must be at least 32 characters")
        if self.firmware_storage == "s3" and not self.firmware_s3_bucket:
            raise ValueError("CHARGELINE_FIRMWARE_S3_BUCKET must be set for S3 firmware storage")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'chargeline.db'}"

    @property
    def resolved_mail_outbox(self) -> Path | None:
        """Where mail is written instead of sent, or None to send it over SMTP."""
        if self.mail_outbox is not None:
            return self.mail_outbox
        smtp_chosen = {"smtp_host", "smtp_port"} & self.model_fields_set
        if self.mode == "development" and not smtp_chosen:
            return self.data_dir / "outbox"
        return None

    @property
    def ftp_data_ports(self) -> range | None:
        if self.ftp_passive_ports is None:
            return None
        first, last = (int(part) for part in self.ftp_passive_ports.split("-"))
        return range(first, last + 1)

    @property
    def access_token_ttl(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_ttl(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def resolved_ca_dir(self) -> Path:
        """Where the local key-encryption key lives (``data_dir/pki`` unless set)."""
        return self.ca_dir or self.data_dir / "pki"

    @property
    def firmware_dir(self) -> Path:
        """Where local firmware images live."""
        return self.data_dir / "firmware"

    @property
    def api_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def app_link_url(self) -> str:
        """The base of the links in mails: ``app_link_base``, else the public URL."""
        return (self.app_link_base or self.api_url).rstrip("/")
