"""Message templates shipped with the package, one folder per language, rendered in a sandbox.

`<language>/<template>.subject.txt`, `<language>/<template>.txt`, `<language>/<template>.html` and
`<language>/<template>.sms.txt` (SMS and WhatsApp; the subject when absent). HTML is autoescaped, text is
not. Templates only see the context and the `money`/`datetime` filters. A tenant's overrides (per
language and part) take the place of the shipped files, in the same sandbox.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..domain.formatting import format_datetime, format_money

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
PARTS = {"subject": "subject.txt", "text": "txt", "html": "html", "sms": "sms.txt"}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    sms: str = ""


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
        env.globals["language"] = language
        return env

    def source(self, template: str, language: str, part: str) -> str:
        env = self._environments[language]
        return self._loader.get_source(env, f"{language}/{template}.{PARTS[part]}")[0]

    def render(self, template: str, language: str, context: Mapping[str, Any],
               overrides: Mapping[tuple[str, str], str] | None = None) -> RenderedEmail:
        """`overrides`: {(language, part): source}, part one of subject/text/html/sms."""
        language = language if language in self._environments else DEFAULT_LANGUAGE
        env = self._environments[language]
        mine = {f"{lang}/{template}.{PARTS[part]}": source for (lang, part), source in (overrides or {}).items()
                if lang == language and part in PARTS}
        if mine:
            env = env.overlay(loader=ChoiceLoader([DictLoader(mine), self._loader]))
        subject = " ".join(env.get_template(f"{language}/{template}.subject.txt").render(context).split())
        try:
            sms = env.get_template(f"{language}/{template}.sms.txt").render(context).strip()
        except TemplateNotFound:
            sms = subject
        return RenderedEmail(
            subject=subject,  # one line: a header never carries a line break
            text=env.get_template(f"{language}/{template}.txt").render(context),
            html=env.get_template(f"{language}/{template}.html").render(context),
            sms=sms,
        )
