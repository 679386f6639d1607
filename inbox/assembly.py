"""Builds the service's parts from the config and wires their callbacks: the intake, router,
auto-replies, deadlines, outbox, channels, event feed and web services. inbox.app runs them."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.base import Channel
from channels.line import LineChannel, LineSettings
from channels.mail import MailChannel, MailIntake, MailSettings
from channels.mail_imap import ImapSettings
from channels.mail_smtp import SmtpSettings
from channels.sms import STATUS_CALLBACK_PATH, SmsSettings, TwilioSmsChannel
from channels.voice import TwilioDialer
from channels.webchat import PushedHere, WebChatChannel
from inbox.autoreply import AutoReplier
from inbox.commands.voice import CallPlacer
from inbox.config import Config, RoutingConfig
from inbox.core.model import ChannelKind, ConversationId, Event, Role, UserId
from inbox.deadlines import DeadlineWatcher
from inbox.feed import EventFeed
from inbox.follow_ups import FollowUpWatcher
from inbox.identity import derived_key, identity_hash
from inbox.line_config import LineConfig
from inbox.mail_config import MailConfig
from inbox.oncall import OnCallMailer
from inbox.outbox import OutboxSender
from inbox.pipeline import Intake, Stored
from inbox.resilience import Outages
from inbox.retention import BodyRetention
from inbox.router import Router
from inbox.search_index import SearchIndexer
from inbox.sms_config import SmsConfig, VoiceConfig
from inbox.sms_labels import SmsOptLabeler
from inbox.survey import SurveyDesk
from inbox.throttle import SignInGuard
from inbox.web.board_live import BoardLive
from inbox.web.chat_news import ChatNews
from inbox.web.hub import Hub
from inbox.web.overview import board_json
from inbox.web.server import Services, WebSettings
from routing.assign import RoutingPolicy
from routing.rules import labeler
from storage.base import Store

log = logging.getLogger(__name__)
Job = tuple[str, Coroutine[Any, Any, None]]


async def on_call_user(store: Store, username: str) -> UserId | None:
    """A username of routing.on_call as a user id; an unknown or unfit user is logged and is
    not on call, rather than keeping the whole service down over it."""
    if not username:
        return None
    found = await store.find_login(username)
    if found is None or found[0].disabled or not found[0].has_any(Role.COUNSELOR):
        log.error(
            f"routing.on_call: {username!r} is not an enabled user with the counselor role; "
            "in her on-call hours urgent conversations will wait for someone on duty",
            extra={"action": "on_call_missing"},
        )
        return None
    return found[0].id


async def on_call_users(
    store: Store, routing: RoutingConfig
) -> Callable[[datetime], UserId | None] | None:
    """Who is on call at an instant, by the rota, as a user id; None when the rota names no one
    who can be (on-call is off, and no on-call mail is sent)."""
    ids = {name: await on_call_user(store, name) for name in sorted(routing.on_call.people)}
    if not any(ids.values()):
        return None

    def at(now: datetime) -> UserId | None:
        name = routing.on_call_at(now)
        return None if name is None else ids.get(name)

    return at


def build_mail_settings(cfg: MailConfig, key: bytes) -> MailSettings:
    return MailSettings(
        thread_key=derived_key(key, "mail-thread"),
        imap=ImapSettings(
            host=cfg.imap_host,
            port=cfg.imap_port,
            security=cfg.imap_security,
            username=cfg.imap_username,
            password=cfg.imap_password,
            folder=cfg.imap_folder,
        ),
        smtp=SmtpSettings(
            host=cfg.smtp_host,
            port=cfg.smtp_port,
            security=cfg.smtp_security,
            username=cfg.smtp_username or None,
            password=cfg.smtp_password or None,
        ),
        address=cfg.address,
        from_name=cfg.from_name,
        domain=cfg.domain or cfg.address.rpartition("@")[2],
        charset=cfg.charset,
        mark=cfg.mark,
        max_attachment_bytes=cfg.max_attachment_bytes,
        neutral_name=cfg.neutral_name,
        neutral_subject=cfg.neutral_subject,
        default_subject=cfg.default_subject,
    )


def build_sms_settings(cfg: SmsConfig, base_url: str) -> SmsSettings:
    return SmsSettings(
        account_sid=cfg.account_sid,
        auth_token=cfg.auth_token,
        from_number=cfg.from_number,
        # Twilio reports each reply's fate here (inbox.web's status callback endpoint)
        status_callback_url=base_url + STATUS_CALLBACK_PATH,
        api_url=cfg.api_url,
    )


async def line_channel(
    cfg: LineConfig,
    store: Store,
    key: bytes,
    stack: AsyncExitStack,
    clock: Callable[[], datetime],
    outbox_timeout_s: float,
) -> LineChannel | None:
    """The LINE channel with [line] enabled: replies use her kept reply token while valid."""
    if not cfg.enabled:
        return None

    async def take_token(recipient: str) -> str | None:
        identity = identity_hash(key, ChannelKind.LINE, recipient)
        return await store.take_reply_token(ChannelKind.LINE, identity, now=clock())

    settings = LineSettings(
        access_token=cfg.access_token,
        api_url=cfg.api_url,
        data_api_url=cfg.data_api_url,
        max_content_bytes=cfg.max_content_bytes,
        content_timeout_s=cfg.content_timeout_s,
        loading_seconds=cfg.loading_seconds,
        # the reply's own deadline comes first, so the channel can tell an unknown outcome
        reply_timeout_s=outbox_timeout_s * 0.8,
    )
    return await stack.enter_async_context(LineChannel(settings, take_token))


async def voice_placer(cfg: VoiceConfig, stack: AsyncExitStack) -> CallPlacer | None:
    """Click-to-call with [voice] enabled: Twilio rings staff's phone, then bridges to her."""
    if not cfg.enabled:
        return None
    dialer = TwilioDialer(cfg.account_sid, cfg.auth_token, cfg.api_url, timeout_s=cfg.api_timeout_s)
    return await stack.enter_async_context(dialer)


def web_settings(cfg: Config) -> WebSettings:
    return WebSettings(
        base_url=cfg.server.base_url,
        secure_cookies=cfg.server.cookies_secure,
        session_ttl_h=cfg.server.session_ttl_h,
        max_body_bytes=cfg.server.max_body_bytes,
        allowed_origins=cfg.server.allowed_origins,
        max_message_chars=cfg.intake.max_message_chars,
        heartbeat_s=cfg.webchat.heartbeat_s,
        webchat_enabled=cfg.webchat.enabled,
        anonymity=cfg.privacy.anonymity,
        reveal_roles=cfg.privacy.reveal_roles,
        webchat=cfg.webchat,
        outcomes=cfg.closing.outcomes,
        timezone=cfg.routing.timezone,
        short_query_recent_messages=cfg.search.short_query_recent_messages,
        tags=cfg.desk.book(),
        disconnect_grace_s=cfg.routing.disconnect_grace_s,
        urgency_categories=tuple(c for c, _ in cfg.routing.urgent.keywords),
        webchat_hours=cfg.routing.hours_for(ChannelKind.WEBCHAT),
        response_target_s=cfg.routing.targets.normal.first.total_seconds(),
        due_soon_s=cfg.routing.targets.normal.first.total_seconds()
        * (1 - cfg.routing.targets.warn_fraction),
        urgent_priority=cfg.routing.urgent.priority,
        sms=cfg.sms,
        voice=cfg.voice,
        phone=cfg.phone,
        phone_hours=cfg.routing.hours_for(ChannelKind.PHONE),
        line=cfg.line,
        report=cfg.report,
        casework=cfg.casework,
    )


@dataclass(slots=True, kw_only=True)
class Parts:
    services: Services  # the store, intake, router and outbox, as the web layer sees them
    replier: AutoReplier
    watcher: DeadlineWatcher
    feed: EventFeed
    follow_ups: FollowUpWatcher  # follow-ups into the queue on their day
    board: BoardLive  # the supervisors' live board (inbox.web.board_live)
    indexer: SearchIndexer | None = None  # SQLite's text-search index, off the intake's path
    mail_intake: MailIntake | None = None
    on_call_mailer: OnCallMailer | None = None
    retention: BodyRetention | None = None  # [retention] bodies_days: a purge of bodies daily

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def intake(self) -> Intake:
        return self.services.intake

    @property
    def router(self) -> Router:
        return self.services.router

    @property
    def outbox(self) -> OutboxSender:
        return self.services.outbox

    def other_instance(self, needs_routing: bool) -> None:
        """Another process on the same PostgreSQL wrote events: show them, read the
        conversations they changed for their deadlines, and route."""
        self.feed.poke()
        self.watcher.wake()
        if needs_routing:
            self.router.wake()

    def arrived_elsewhere(self, priority: int, queued_at: datetime) -> None:
        """Another instance's intake only opened conversations left waiting: show them, and
        route (without reading a full desk's queue again for them: Router.arrived)."""
        self.feed.poke()
        self.router.arrived(priority, queued_at)

    def workers(self) -> list[Job]:
        """What runs until shutdown, after the intake has drained."""
        jobs: list[Job] = [
            ("intake-writer", self.intake.run_writer()),
            ("router", self.router.run()),
            ("outbox", self.outbox.run()),
            ("event-feed", self.feed.run()),
            ("board", self.board.run()),
            ("auto-replies", self.replier.run()),
            ("deadlines", self.watcher.run()),
            ("follow-ups", self.follow_ups.run()),
            ("presence", self.services.presence.run()),
            ("listen", self.store.listen(self.other_instance, self.arrived_elsewhere)),
            # rounds only while this instance leads (PostgreSQL: one router at a time)
            ("router-lease", self.store.lead_router(self.router.leading)),
        ]
        if self.on_call_mailer is not None:
            jobs.append(("on-call-mail", self.on_call_mailer.run()))
        if self.indexer is not None:
            jobs.append(("search-index", self.indexer.run()))
        if self.retention is not None:
            jobs.append(("retention", self.retention.run()))
        return jobs

    def pull_intakes(self) -> list[Job]:
        """Channels that fetch messages themselves; stopped first at shutdown."""
        return [] if self.mail_intake is None else [("mail-intake", self.mail_intake.run())]


async def open_channels(
    cfg: Config,
    store: Store,
    key: bytes,
    stack: AsyncExitStack,
    clock: Callable[[], datetime],
    chat_hub: Hub,
    mail_settings: MailSettings | None,
    pushed: PushedHere,
) -> tuple[dict[ChannelKind, Channel], LineChannel | None]:
    """Every enabled channel's adapter, open until `stack` closes; LINE's also on its own (the
    web layer fetches content, the quota and profiles with it). `pushed`: the web chat replies
    pushed here, which the feed's chat news does not push again."""
    channels: dict[ChannelKind, Channel] = {}
    webchat = await stack.enter_async_context(WebChatChannel(chat_hub, pushed))
    channels[webchat.kind] = webchat
    if mail_settings is not None:
        channels[ChannelKind.MAIL] = MailChannel(mail_settings, store)
    if cfg.sms.enabled:
        sms = TwilioSmsChannel(build_sms_settings(cfg.sms, cfg.server.base_url))
        channels[ChannelKind.SMS] = await stack.enter_async_context(sms)
    line = await line_channel(cfg.line, store, key, stack, clock, cfg.outbox.send_timeout_s)
    if line is not None:
        channels[ChannelKind.LINE] = line
    return channels, line


def tell_router(router: Router, fresh: Sequence[Stored]) -> None:
    """Routing at intake gave most new conversations to someone already (her load changed:
    the router's next round reads it); the router is needed for those left waiting, and is
    told which (Router.arrived: a full desk's queue is not read again for them)."""
    for item, answer in fresh:
        if answer.requeued:
            router.wake()  # its own priority, not her message's: the queue is read again
        elif answer.queued:
            router.arrived(item.labels.priority, item.message.received_at, answer.conversation_id)
        elif answer.assigned_to is not None:
            router.changed()


async def assemble(
    cfg: Config,
    store: Store,
    key: bytes,
    *,
    stack: AsyncExitStack,
    clock: Callable[[], datetime],
) -> Parts:
    staff_hub = Hub(
        client_queue=cfg.webchat.client_queue, send_timeout_s=cfg.webchat.send_timeout_s
    )
    chat_hub = Hub(client_queue=cfg.webchat.client_queue, send_timeout_s=cfg.webchat.send_timeout_s)
    mail_settings = build_mail_settings(cfg.mail, key) if cfg.mail.enabled else None
    pushed = PushedHere()
    channels, line = await open_channels(
        cfg, store, key, stack, clock, chat_hub, mail_settings, pushed
    )
    placer = await voice_placer(cfg.voice, stack)
    # The workers wait out a database outage with this backoff; /readyz reads who waits.
    outages = Outages(max_delay_s=cfg.database.connect_backoff_max_s)
    chat_news = ChatNews(store, chat_hub, pushed)
    surveys = SurveyDesk(
        cfg.survey, key, timezone=cfg.routing.timezone, base_url=cfg.server.base_url
    )

    async def published(events: Sequence[Event]) -> None:
        await chat_news.published(events)
        await board.published(events)  # `board` exists by the time the feed runs

    feed = EventFeed(store, staff_hub, outages=outages, published=published)

    # These two run only once everything is built; by then `outbox` and `router` exist.
    def replies_queued() -> None:
        outbox.wake()
        feed.poke()

    def alarmed(_: object) -> None:
        router.wake()  # an escalated conversation may be back in the queue
        feed.poke()

    # The desk's closed days, which counselors' shifts follow: one rule for the router, the
    # routing at intake and the screens (they ask the router), and the waiting-line estimate.
    closed_days = cfg.closed_days
    urgent = cfg.routing.urgent.priority
    on_call = await on_call_users(store, cfg.routing)
    replier = AutoReplier(
        store,
        texts=cfg.routing.replies,
        hours_for=cfg.routing.hours_for,
        clock=clock,
        on_queued=replies_queued,
        outages=outages,
        closed_days=closed_days,
        on_call=lambda now: on_call is not None and on_call(now) is not None,
        urgent_priority=urgent,
    )
    mailer = None
    if on_call is not None and cfg.routing.on_call_email and mail_settings is not None:
        mailer = OnCallMailer(
            mail_settings.smtp,
            sender=mail_settings.address,
            to=cfg.routing.on_call_email,
            console_url=f"{cfg.server.base_url}/console",
        )

    def on_call_given(conversations: Sequence[ConversationId]) -> None:
        """The router handed these to the person on call: she is mailed, and the staff feed
        hears of the hand-off's events at once (the consoles, the board's alert)."""
        feed.poke()
        if mailer is not None:
            mailer.given(conversations)

    router = Router(
        store,
        clock=clock,
        policy=RoutingPolicy(
            continuity_days=cfg.routing.continuity_days,
            continuity_wait_s=cfg.routing.continuity_wait_s,
            urgent_priority=urgent,
            closed_days=closed_days,
            call_window_tz=cfg.routing.timezone,
        ),
        on_assigned=lambda _: feed.poke(),
        offer_timeout_s=cfg.routing.offer_timeout_s,
        on_lapsed=lambda _: feed.poke(),
        hours_for=cfg.routing.hours_for,
        # after each round's hand-off: the consulters it gave the person on call are told
        on_round=replier.routed,
        on_call=on_call or (lambda _: None),
        on_call_given=on_call_given,
        outages=outages,
        round_min_gap_s=cfg.routing.round_min_gap_ms / 1000,
    )
    router.leading.clear()  # until the store's lease says this instance routes (Parts.workers)
    watcher = DeadlineWatcher(
        store,
        targets=dataclasses.replace(cfg.routing.targets, urgent_priority=urgent),
        hours_for=cfg.routing.hours_for,
        clock=clock,
        on_alarm=alarmed,
        outages=outages,
        leading=router.leading,  # one watcher at a time, as one router
    )

    def follow_ups_due(_: object) -> None:
        router.wake()  # their tasks wait in the queue, for their counselor first
        watcher.wake()
        feed.poke()

    follow_ups = FollowUpWatcher(
        store,
        hours_for=cfg.routing.hours_for,
        clock=clock,
        tz=cfg.routing.timezone,
        on_due=follow_ups_due,
        outages=outages,
    )

    def stored(answers: Sequence[Stored]) -> None:
        fresh = [(item, answer) for item, answer in answers if not answer.duplicate]
        if fresh:
            tell_router(router, fresh)
            watcher.wake()
            replier.stored(answers)
            feed.poke()

    intake = Intake(
        store,
        key,
        queue_max=cfg.intake.queue_max,
        batch_max=cfg.intake.batch_max,
        ack_timeout_s=cfg.intake.ack_timeout_s,
        on_stored=stored,
        label=SmsOptLabeler(
            labeler(cfg.routing.rules, cfg.routing.urgent, cfg.routing.timezone),
            cfg.sms.opt_out_words,
        ),
        router=router,
        writers=store.intake_writers,
    )
    outbox = OutboxSender(
        store,
        channels,
        clock=clock,
        batch=cfg.outbox.batch,
        max_attempts=cfg.outbox.max_attempts,
        backoff_base_s=cfg.outbox.backoff_base_s,
        backoff_max_s=cfg.outbox.backoff_max_s,
        lease_s=cfg.outbox.lease_s,
        send_timeout_s=cfg.outbox.send_timeout_s,
        on_change=feed.poke,
        outages=outages,
        surveys=surveys,
    )
    services = Services(
        store=store,
        intake=intake,
        router=router,
        outbox=outbox,
        staff_hub=staff_hub,
        chat_hub=chat_hub,
        clock=clock,
        settings=web_settings(cfg),
        on_event=feed.poke,
        news=lambda: feed.news,
        outages=outages,
        sign_in=SignInGuard(cfg.sign_in),
        placer=placer,
        line=line,
        on_follow_up=follow_ups.wake,
        surveys=surveys,
    )
    board = BoardLive(services.supervisors, lambda: board_json(services), outages=outages)
    retention = None
    if cfg.retention.bodies_days:
        retention = BodyRetention(
            services.commands.report,
            days=cfg.retention.bodies_days,
            clock=clock,
            outages=outages,
        )
    return Parts(
        retention=retention,
        board=board,
        replier=replier,
        watcher=watcher,
        feed=feed,
        follow_ups=follow_ups,
        services=services,
        mail_intake=(
            None if mail_settings is None else MailIntake(mail_settings, intake, store, clock=clock)
        ),
        on_call_mailer=mailer,
        indexer=SearchIndexer(
            store,
            outages,
            interval_s=cfg.search.index_interval_s,
            batch=cfg.search.index_batch,
        ),
    )
