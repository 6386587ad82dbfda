"""Settings, read once from the environment (prefix VOLTBOOK_) and an optional .env file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.cwd() / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOLTBOOK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, e.g. ["127.0.0.1"] or ["10.0.0.0/8"]); none by default: the peer's own
    # address is the client's, so no client can choose the address the sign-in throttle sees.
    trusted_proxies: list[str] = Field(default_factory=list)
    jwt_secret: SecretStr = SecretStr("")
    # Key of station password hashes (at least 32 characters); derived from the token
    # secret when empty. Changing either makes every station's stored password unusable.
    station_key: SecretStr = SecretStr("")
    token_lifetime_s: int = 900  # access tokens; the app renews them with its refresh token
    refresh_token_lifetime_s: int = 30 * 24 * 3600
    login_max_failures: int = 10
    login_window_s: int = 60
    log_level: str = "info"
    log_json: bool = False
    db_pool_size: int = 10
    # Request bodies: at most this many bytes, or per path prefix (added to the built-in
    # ones: 16 KiB for /api/v1/reservations, 4 KiB for /api/v1/auth), e.g.
    # VOLTBOOK_BODY_LIMITS='{"/api/v1/operator/offers": 131072}'; over it → 413.
    max_body_bytes: int = Field(default=65_536, ge=1_024)
    body_limits: dict[str, int] = Field(default_factory=dict)
    ocpp_auto_register: bool = False
    ocpp_max_frame_bytes: int = 65_536
    # Back-pressure on every WebSocket (stations and apps, docs/adr/0031): frames queued for
    # one peer, and how long one send may wait for it to read; beyond either: close 4408.
    websocket_send_queue: int = Field(default=256, ge=1)
    websocket_send_block_s: float = Field(default=10.0, gt=0)
    ocpp_command_timeout_s: float = 30.0
    ocpp_heartbeat_interval_s: int = 300
    # A station whose connection drops counts as offline (written, alarmed) only if it is
    # not back within this time (docs/adr/0034); 0: at once.
    ocpp_offline_grace_s: float = Field(default=10.0, ge=0, le=3_600)
    ocpp_accept_unknown_id_tags: bool = False
    # Nearby searches from an in-memory catalog of every site, at most this stale
    # (docs/adr/0022); off: every search reads the database.
    nearby_in_memory: bool = True
    # The message journal (last OCPP frames per station) and the status history.
    journal_enabled: bool = True
    journal_keep_per_station: int = Field(default=500, ge=10)
    journal_retention_h: int = Field(default=168, ge=1)
    status_history_retention_days: int = Field(default=90, ge=1)
    meter_values_retention_days: int = Field(default=90, ge=1)  # sessions' meter series
    # The console's days ("today's figures", offer figures by day): an IANA time zone.
    console_time_zone: str = Field(default="UTC", pattern=r"^[A-Za-z0-9_+\-/]{1,64}$")
    reservation_max_live_per_driver: int = 2
    reservation_horizon_days: int = 7
    reservation_min_minutes: int = 10
    reservation_max_minutes: int = 240
    reservation_grace_s: int = 900
    reservation_lead_s: int = 300
    # Many nodes: empty = one process, in-process bus; else redis://host:port/db.
    redis_url: str = ""
    redis_prefix: str = "voltbook"  # keys and channels; one per cluster sharing a Redis
    # The app end (live channel, notices, Web Push, offers).
    live_query_timeout_s: float = 10.0
    live_ping_interval_s: float = 20.0
    notice_retention_h: int = Field(default=48, ge=24)  # replay window for reconnecting apps
    position_ttl_s: int = 1800  # a driver's last position is forgotten after this
    push_ttl_s: int = 3600
    push_contact: str = "mailto:operator@voltbook.invalid"  # VAPID "sub" claim
    push_allow_insecure: bool = False  # accept http:// loopback push endpoints (tests only)
    push_max_subscriptions: int = 10  # browsers per driver
    vapid_private_key: SecretStr = SecretStr("")  # PEM; empty: made once, kept in the data dir
    offer_max_per_hour: int = 3  # offers any one driver gets, across all offers
    recommendation_margin_percent: float = 15.0  # range held back when recommending
    # Consumption used to estimate a range from the SoC when no range was reported.
    recommendation_kwh_per_km: float = Field(default=0.18, gt=0)
    # City simulation only (ADR 0020): domain time runs `time_scale` times faster than real
    # time, starting at `time_origin` at the real Unix instant `time_anchor` (0 = at start).
    # A scale other than 1 is refused unless `simulation` is set too.
    simulation: bool = False
    time_scale: float = Field(default=1.0, gt=0)
    time_origin: datetime | None = None
    time_anchor: float = 0.0

    @model_validator(mode="after")
    def _time_scale_only_in_simulation(self) -> Settings:
        if self.time_scale != 1.0 and not self.simulation:
            raise ValueError("time_scale other than 1 needs VOLTBOOK_SIMULATION=true")
        if self.time_origin is not None and self.time_origin.tzinfo is None:
            raise ValueError("time_origin must carry a timezone")
        return self

    # The browser ends. Map tiles: a URL template such as
    # https://tile.openstreetmap.org/{z}/{x}/{y}.png (empty: the map is a plain background
    # that still shows the chargers); its host is added to the Content-Security-Policy.
    tile_url: str = ""
    tile_attribution: str = ""
    # Origins of apps served elsewhere that may call the API from a browser (CORS).
    cors_origins: list[str] = Field(default_factory=list)
    # HTTPS for `serve` and `demo` (service workers, geolocation and push need a secure
    # context except on localhost).
    certfile: Path | None = None
    keyfile: Path | None = None

    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'voltbook.sqlite3').resolve()}"
