"""Who is asking, and what her roles allow: every permission is decided here, on the server."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from inbox.auth import secret_hash
from inbox.core.errors import PermissionDenied
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    Role,
    User,
)
from inbox.web.server import SERVICES, ApiError, path_id

SESSION_COOKIE = "tsunagu_session"
CSRF_HEADER = "X-Tsunagu-CSRF"
_REQUEST_USER = web.RequestKey("user", User)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# All that one who must change her password (an admin set it) may do until she has: set her
# own, or sign out. Her token and her sockets are refused alike.
PASSWORD_CHANGE_ONLY = frozenset({("POST", "/api/session/password"), ("DELETE", "/api/session")})


async def current_user(request: web.Request) -> User:
    """The signed-in user, by bearer token or session cookie; 401 otherwise.

    A cookie can be sent by any site the browser visits, so a state-changing request that
    rides on the cookie must also carry a custom header, which other origins cannot add.
    """
    if _REQUEST_USER in request:
        return request[_REQUEST_USER]
    services = request.app[SERVICES]
    auth = request.headers.get("Authorization", "")
    user: User | None = None
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
        if _printable_ascii(token):
            user = await services.store.token_user(secret_hash(token))
    elif (cookie := request.cookies.get(SESSION_COOKIE)) and _printable_ascii(cookie):
        user = await services.store.session_user(secret_hash(cookie), now=services.clock())
        if (
            user is not None
            and request.method not in SAFE_METHODS
            and request.headers.get(CSRF_HEADER) != "1"
        ):
            raise ApiError(403, "csrf", f"cookie-authenticated requests need {CSRF_HEADER}: 1")
    if user is None:
        raise ApiError(401, "unauthenticated", "sign in first")
    if user.must_change_password and (request.method, request.path) not in PASSWORD_CHANGE_ONLY:
        raise ApiError(
            403,
            "password_change_required",
            "set a new password first: POST /api/session/password {current, new}",
        )
    request[_REQUEST_USER] = user
    return user


async def signed_out_since(request: web.Request, user: User) -> bytes | None:
    """Why the session or token a request rode on no longer signs in `user` with her roles,
    read afresh (the reason a staff socket is closed with, as inbox.web.sockets gives it on
    the event); None while it does. A socket opened while she was being disabled, or her roles
    changed, would otherwise miss the event that closes it (it came before it listened)."""
    del request[_REQUEST_USER]
    try:
        again = await current_user(request)
    except ApiError:
        return b"signed out"
    if again.id != user.id:
        return b"signed out"
    return None if again.roles == user.roles else b"roles changed"


def session_hash(request: web.Request) -> str | None:
    """The token hash of the sign-in session the request rides on, as current_user reads it;
    None for a request by API token or with no cookie."""
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return secret_hash(cookie) if cookie and _printable_ascii(cookie) else None


def _printable_ascii(secret: str) -> bool:
    # Every secret we issue is URL-safe base64. Header bytes that are not UTF-8 arrive as lone
    # surrogates, which secret_hash could not encode: no token of ours, so 401.
    return secret.isascii() and secret.isprintable()


async def require(request: web.Request, *roles: Role) -> User:
    user = await current_user(request)
    if roles and not user.has_any(*roles):
        wanted = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"this needs the role {wanted}")
    return user


def sees_everything(user: User) -> bool:
    return user.has_any(Role.SUPERVISOR)


def can_see(user: User, conv: Conversation) -> bool:
    """Supervisors see every conversation; counselors their own and the unassigned queue;
    phone staff the phone conversations. Admins manage accounts, not conversations."""
    if sees_everything(user):
        return True
    if user.has_any(Role.COUNSELOR) and (
        conv.assignee_id == user.id
        or (conv.assignee_id is None and conv.status is ConversationStatus.QUEUED)
    ):
        return True
    return user.has_any(Role.PHONE_STAFF) and conv.channel is ChannelKind.PHONE


def phone_side_only(user: User) -> bool:
    """Phone staff who are neither counselors nor supervisors: of a consulter's history they
    read her phone conversations (and their calls) only, never her chats, mails or the
    counselors' notes on them, even when a callback of hers is theirs (README, Roles)."""
    return not user.has_any(Role.COUNSELOR, Role.SUPERVISOR)


def check_can_see(user: User, conv: Conversation) -> None:
    # 404, not 403: a counselor must not learn which conversation ids exist elsewhere.
    if not can_see(user, conv):
        raise ApiError(404, "not_found", f"conversation {conv.id} does not exist")


async def readable_conversation(
    request: web.Request, conversation_id: ConversationId | None = None
) -> tuple[User, Conversation]:
    """The signed-in staff member and the conversation (by default the one the path names) if
    she may read it: what she may see (can_see), and for a counselor also any conversation she
    wrote in (search finds those; moved on or closed, she may read back what she wrote).
    403 for a role that reads no conversations, 404 for one she may not read."""
    user = await require(request, Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)
    if conversation_id is None:
        conversation_id = ConversationId(path_id(request))
    store = request.app[SERVICES].store
    conv = await store.get_conversation(conversation_id)
    if not can_see(user, conv) and not (
        user.has_any(Role.COUNSELOR) and await store.authored_in(conv.id, user.id)
    ):
        raise ApiError(404, "not_found", f"conversation {conv.id} does not exist")
    return user, conv


def check_can_act(user: User, conv: Conversation) -> None:
    """Replying and closing belong to the assignee, or to a supervisor."""
    check_can_see(user, conv)
    if not (sees_everything(user) or conv.assignee_id == user.id):
        raise PermissionDenied("only the assigned counselor or a supervisor can do this")


def check_can_note(user: User, conv: Conversation) -> None:
    """Internal notes: the assignee, a supervisor, or phone staff on a phone conversation
    (README, Roles); a counselor does not annotate the queue or another's conversation."""
    check_can_see(user, conv)
    if sees_everything(user) or conv.assignee_id == user.id:
        return
    if user.has_any(Role.PHONE_STAFF) and conv.channel is ChannelKind.PHONE:
        return
    raise PermissionDenied(
        "only the assigned counselor, a supervisor, or phone staff on a phone conversation"
        " can add notes"
    )


def session_ttl(hours: int) -> timedelta:
    return timedelta(hours=hours)


def check_origin(request: web.Request) -> None:
    """Browsers send cookies with a websocket handshake from any page, so a socket opened by
    another site must be refused by its Origin (cross-site websocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser; such clients authenticate with a token
    settings = request.app[SERVICES].settings
    own = {f"{request.scheme}://{request.host}", settings.base_url.rstrip("/")}
    if origin.rstrip("/") not in own | set(settings.allowed_origins):
        raise ApiError(
            403, "origin", f"origin {origin!r} is not allowed; see server.allowed_origins"
        )
