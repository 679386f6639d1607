"""The satisfaction survey's one-page form, linked from the e-mail that asks it: GET
/survey/{token} shows the question, POST answers it once. No sign-in: the token in the link
(inbox.survey) is the key, single use and valid [survey].link_days; a used, expired or unknown
one gets a page that says so. Rendered here without script, under a strict CSP, in Japanese or
English (?lang=en, else her browser's language). The token is never logged.
"""

from __future__ import annotations

import logging
from html import escape

from aiohttp import web

from inbox.core.model import ChannelKind
from inbox.core.survey import MAX_TOKEN_CHARS, SurveyAnswer, answer_labels
from inbox.survey import FORM_PATH, SurveyDesk
from inbox.web.server import SERVICES

log = logging.getLogger(__name__)
MAIL = ChannelKind.MAIL
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
WORDS = {
    "ja": {
        "title": "アンケート",
        "note": "任意・匿名です。お答えはご相談の記録とは別に、"
        "誰の回答か分からない形で集計します。",
        "send": "送信する",
        "pick": "どれか一つを選んでください。",
        "thanks": "お答えいただき、ありがとうございました。",
        "closed": "このアンケートは回答済みか、期限が過ぎています。",
        "other": "English",
    },
    "en": {
        "title": "Survey",
        "note": "Optional and anonymous: your answer is counted apart from the record of your"
        " consultation, with nothing that tells whose it is.",
        "send": "Send",
        "pick": "Please choose one answer.",
        "thanks": "Thank you for your answer.",
        "closed": "This survey has been answered already or has expired.",
        "other": "日本語",
    },
}


def _language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in WORDS:
        return asked
    accepted = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accepted.startswith("en") else "ja"


def _token(request: web.Request) -> str | None:
    token = request.match_info.get("token", "")
    ok = 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()
    return token if ok and all(c.isalnum() or c in "-_=" for c in token) else None


def _page(lang: str, token: str, main: str, *, status: int = 200) -> web.Response:
    w = WORDS[lang]
    other = "en" if lang == "ja" else "ja"
    html = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{escape(w["title"])}</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body class="page-survey">
<header class="survey-header">
<a class="btn btn-small btn-quiet" lang="{other}" href="{FORM_PATH}/{escape(token)}?lang={other}"
 data-testid="survey-lang">{escape(w["other"])}</a>
</header>
<main class="survey-main">
{main}
</main>
</body>
</html>
"""
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _said(lang: str, token: str, key: str, status: int) -> web.Response:
    words = escape(WORDS[lang][key])
    return _page(
        lang,
        token,
        f'<h1 class="survey-title">{escape(WORDS[lang]["title"])}</h1>\n'
        f'<p class="survey-said" role="status" data-testid="survey-said">{words}</p>',
        status=status,
    )


def _form(surveys: SurveyDesk, lang: str, token: str, *, missing: bool = False) -> web.Response:
    w = WORDS[lang]
    choices = "\n".join(
        f'<label class="survey-choice"><input type="radio" name="answer" value="{n}" required>'
        f" {escape(label)}</label>"
        for n, label in answer_labels(lang)
    )
    error = f'<p class="survey-error" role="alert">{escape(w["pick"])}</p>\n' if missing else ""
    main = f"""<h1 class="survey-title">{escape(w["title"])}</h1>
<form method="post" action="{FORM_PATH}/{escape(token)}?lang={lang}" data-testid="survey-form">
<fieldset class="survey-fieldset">
<legend class="survey-question">{escape(surveys.question(lang))}</legend>
{error}{choices}
</fieldset>
<p class="survey-note">{escape(w["note"])}</p>
<button type="submit" class="btn btn-primary" data-testid="survey-send">{escape(w["send"])}</button>
</form>"""
    return _page(lang, token, main, status=400 if missing else 200)


async def survey_page(request: web.Request) -> web.Response:
    services, lang = request.app[SERVICES], _language(request)
    token, surveys = _token(request), services.surveys
    if token is None or surveys is None:
        return _said(lang, "", "closed", 404)
    since = surveys.asked_since(MAIL, services.clock())
    if not await services.store.survey_token_open(
        surveys.token_hash(token), MAIL, asked_since=since
    ):
        return _said(lang, token, "closed", 410)
    return _form(surveys, lang, token)


async def answer_page(request: web.Request) -> web.Response:
    services, lang = request.app[SERVICES], _language(request)
    token, surveys = _token(request), services.surveys
    if token is None or surveys is None:
        return _said(lang, "", "closed", 404)
    form = await request.post()
    value = form.get("answer")
    if not isinstance(value, str) or value not in {"1", "2", "3", "4"}:
        return _form(surveys, lang, token, missing=True)
    now = services.clock()
    answered = await services.store.answer_survey(
        SurveyAnswer(
            channel=MAIL,
            answer=int(value),
            on_day=surveys.day(now),
            asked_since=surveys.asked_since(MAIL, now),
            token_hash=surveys.token_hash(token),
        )
    )
    if not answered:
        return _said(lang, token, "closed", 410)
    log.info("survey answered", extra={"action": "survey_answered", "channel": MAIL.value})
    return _said(lang, token, "thanks", 200)


def add_routes(app: web.Application) -> None:
    app.router.add_get(FORM_PATH + "/{token}", survey_page)
    app.router.add_post(FORM_PATH + "/{token}", answer_page)
