"""Message templates shipped with the package, one folder per language, rendered in a sandbox.

`<language>/<template>.subject.txt`, `<language>/<template>.txt` and `<language>/<template>.html`;
HTML is autoescaped, text is not. Templates only see the context and the `money`/`datetime` filters.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from jinja2 import BaseLoader, PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..domain.formatting import format_datetime, format_money

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    def __init__(self, loader: BaseLoader | None = None):
        self._loader = loader or PackageLoader("notifications_service", "templates")
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> ImmutableSandboxedEnvironment:
        env = ImmutableSandboxedEnvironment(
            loader=self._loader,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,  # a missing value is an error, never a blank in a buyer's email
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["money"] = partial(format_money, language=language)
        env.filters["datetime"] = partial(format_datetime, language=language)
        return env

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
        language = language if language in self._environments else DEFAULT_LANGUAGE
        env = self._environments[language]
        subject = env.get_template(f"{language}/{template}.subject.txt").render(context)
        return RenderedEmail(
            subject=" ".join(subject.split()),  # one line: a header never carries a line break
            text=env.get_template(f"{language}/{template}.txt").render(context),
            html=env.get_template(f"{language}/{template}.html").render(context),
        )
