"""A crawl's parameters, defined here once; the top's `Settings` nests them as `crawl`.

The crawl process receives them as JSON on stdin (`python -m crawlers`), the one place where
the API keys are written out in clear: everywhere else (logs, Prefect, run records) a
`SecretStr` prints as asterisks.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, SerializationInfo, field_serializer

# Serialisation context under which the secrets are written in clear (see `to_child_json`).
_REVEAL = "reveal_secrets"
SECRET_FIELDS = ("patentsview_api_key", "epo_ops_key", "epo_ops_secret")


class CrawlParams(BaseModel):
    """Who we say we are, where the sources are listed, the deadlines, and the API keys."""

    model_config = ConfigDict(frozen=True)

    contact: str = Field(
        default="observatory@example.org",
        description="address in the User-Agent, so operators can reach us",
    )
    user_agent: str = "FutureIndustryObservatory/0.1 (+https://example.org/observatory)"
    sources_file: Path | None = Field(
        default=None, description="sources TOML (default: crawlers/sources.toml)"
    )
    # Named as the crawl log's deadline messages name them ("setting crawl_timeout_s").
    crawl_source_timeout_s: float = Field(
        default=300.0, ge=0, description="each source's deadline in a crawl; 0: none"
    )
    crawl_timeout_s: float = Field(
        default=1800.0, ge=0, description="the whole crawl's deadline; 0: none"
    )
    crawl_probe_timeout_s: float = Field(
        default=3.0, ge=0, description="TCP probe of each source's host before a crawl; 0: no probe"
    )
    openalex_mailto: str | None = Field(
        default=None, description="OpenAlex's polite pool (default: contact)"
    )
    patentsview_api_key: SecretStr | None = None
    epo_ops_key: SecretStr | None = None
    epo_ops_secret: SecretStr | None = None

    @field_serializer(*SECRET_FIELDS, when_used="json")
    def _secret(self, value: SecretStr | None, info: SerializationInfo) -> str | None:
        if value is None:
            return None
        return value.get_secret_value() if (info.context or {}).get(_REVEAL) else str(value)

    def to_child_json(self) -> str:
        """JSON for the crawl process's stdin, secrets in clear (a pipe, never a file or log)."""
        return self.model_dump_json(context={_REVEAL: True})

    def without_secrets(self) -> CrawlParams:
        """The same parameters with no API key (for runs that need none)."""
        return self.model_copy(update=dict.fromkeys(SECRET_FIELDS))


def secret(value: SecretStr | None) -> str | None:
    """The clear text of a key, for the one consumer that sends it (a spider's request)."""
    return value.get_secret_value() if value is not None else None
