"""A Telegram Bot API emulator on loopback, for tests and the demo.

The real python-telegram-bot talks to it unchanged: ``telegram.Bot(token,
base_url=sandbox.base_url)`` builds ``{base_url}{token}/{method}`` URLs, exactly the shape of
https://core.telegram.org/bots/api#making-requests. Bodies may be JSON, form-encoded or
multipart (PTB sends form data, and multipart when it uploads a file).

    async with TelegramSandbox() as sandbox:
        channel = sandbox.add_channel("@sante_numerique")
        bot = telegram.Bot(sandbox.token, base_url=sandbox.base_url)
        ...
        sandbox.last_message("@sante_numerique").text
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import Counter
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.sandbox import control, methods
from bot.sandbox import text as tgtext
from bot.sandbox.limits import Faults, RateLimiter, RateLimits, SandboxClock
from bot.sandbox.state import Answer, ApiError, Chat, Message, State

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAsandbox-relais-token-for-tests_0000"
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
WEBHOOK_ACTIVE = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


def _file(unique: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": f"{unique}-file", "file_unique_id": unique, "file_size": 12_000, **extra}


# The shapes of https://core.telegram.org/bots/api#sticker, #photosize (a photo is a list of sizes), #document
ATTACHMENTS: dict[str, Any] = {
    "sticker": lambda unique: _file(unique, width=512, height=512, type="regular", is_animated=False,
                                    is_video=False, emoji="👍"),
    "photo": lambda unique: [_file(unique, width=1280, height=720)],
    "document": lambda unique: _file(unique, file_name="ordonnance.pdf", mime_type="application/pdf"),
}


class TelegramSandbox:
    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "relais_sandbox_bot",
                 host: str = "127.0.0.1", port: int = 0, limits: RateLimits | None = None,
                 clock: SandboxClock | None = None) -> None:
        self.token = token
        self.host, self.port = host, port
        self.clock = clock or SandboxClock()
        self.state = State()
        self.faults = Faults()
        self.limiter = RateLimiter(limits or RateLimits())
        self.requests: Counter[str] = Counter()  # method (lower case) → calls received
        self.me: dict[str, Any] = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Relais",
                   "username": bot_username, "can_join_groups": True, "can_read_all_group_messages": False,
                   "supports_inline_queries": True, "can_connect_to_business": False, "has_main_web_app": False}
        self._context = methods.Context(self.state, self.me, self.clock.now)
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Future[None] | None = None
        self._new_update = asyncio.Event()
        self._allowed_updates: list[str] = []
        self._webhook_task: asyncio.Task[None] | None = None
        self._http: ClientSession | None = None
        self._attachments = itertools.count(1)

    # --- lifecycle
    async def start(self) -> TelegramSandbox:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        control.add_routes(app, self)
        # access_log=None: the default access log would print request paths, which hold the token.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Telegram sandbox listening on http://%s:%d", self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._webhook_task:
            self._webhook_task.cancel()
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramSandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(token, base_url=...)`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_username(self) -> str:
        return str(self.me["username"])

    @property
    def limits(self) -> RateLimits:
        return self.limiter.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self.limiter = RateLimiter(limits)

    @property
    def rejected_429(self) -> int:
        """How many 429 Too Many Requests answers the limits produced."""
        return self.limiter.rejected

    # --- chats and inspection
    def add_channel(self, username: str, title: str | None = None, *, chat_type: str = "channel") -> Chat:
        return self.state.add_channel(username, title, chat_type)  # type: ignore[arg-type]

    def add_user(self, user_id: int, first_name: str = "Camille", **fields: Any) -> Chat:
        return self.state.add_user(user_id, first_name, **fields)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sending to them answers 403."""
        self.chat(user_id).blocked_bot = True

    def unblock(self, user_id: int) -> None:
        """The user unblocked the bot: messages reach them again."""
        self.chat(user_id).blocked_bot = False

    def chat(self, chat: int | str) -> Chat:
        try:
            return self.state.resolve(chat)
        except ApiError:
            raise KeyError(chat) from None

    def messages(self, chat: int | str | None = None, *, include_deleted: bool = True) -> list[Message]:
        chat_id = self.chat(chat).id if chat is not None else None
        return [m for m in self.state.messages
                if (chat_id is None or m.chat_id == chat_id) and (include_deleted or not m.deleted)]

    def last_message(self, chat: int | str) -> Message:
        return self.messages(chat)[-1]

    def message(self, chat: int | str, message_id: int) -> Message:
        found = self.state.find(self.chat(chat).id, message_id)
        if found is None:
            raise KeyError((chat, message_id))
        return found

    @property
    def callback_answers(self) -> list[Answer]:
        return self.state.callback_answers

    @property
    def inline_answers(self) -> list[Answer]:
        return self.state.inline_answers

    # --- updates a user would cause
    def _user(self, user: Chat | int) -> Chat:
        if isinstance(user, Chat):
            return user
        return self.state.chats.get(user) or self.state.add_user(user)

    def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = self.state.push_update(kind, payload)
        self._new_update.set()
        self._new_update = asyncio.Event()
        if self.state.webhook.get("url") and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        return update

    def inject_message(self, user: Chat | int, text: str, *, chat: int | str | None = None,
                       parse_mode: str | None = None, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user writes to the bot (private chat unless `chat`); commands get bot_command entities.

        ``parse_mode="HTML"``: the user formatted the text in the client (bold, links…): the
        update carries the plain text and its entities, as Telegram sends them. ``reply_to``:
        the message (as the Bot API shows it, e.g. from :meth:`forwarded`) this one answers.
        """
        sender = self._user(user)
        where = self.chat(chat) if chat is not None else sender
        plain, entities = tgtext.parse(text, parse_mode) if parse_mode else (text, tgtext.detected_entities(text))
        message = self._user_message(sender, where, text=plain)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self._push("message", message)

    def inject_photo(self, user: Chat | int, file_id: str, *, caption: str | None = None) -> dict[str, Any]:
        """A user sends a photo (three sizes, the largest last, as Telegram sends them)."""
        sender = self._user(user)
        message = self._user_message(sender, sender, photo=[
            {"file_id": f"{file_id}_{size}", "file_unique_id": f"{file_id[-8:]}{size}", "width": size,
             "height": size * 3 // 4} for size in (90, 320, 1280)])
        if caption:
            message["caption"] = caption
        return self._push("message", message)

    def forwarded(self, by: Chat | int, original_sender: Chat | int, text: str) -> dict[str, Any]:
        """A message ``by`` forwarded from ``original_sender`` (forward_origin of type user), to reply to."""
        sender, origin = self._user(by), self._user(original_sender)
        message = self._user_message(sender, sender, text=text)
        message["forward_origin"] = {"type": "user", "date": message["date"], "sender_user": origin.as_user()}
        return message

    def _user_message(self, sender: Chat, where: Chat, **content: Any) -> dict[str, Any]:
        return {"message_id": self.state.new_message_id(where.id), "date": int(self.clock.now().timestamp()),
                "chat": where.as_chat(), "from": sender.as_user(), **content}

    def inject_attachment(self, user: Chat | int, kind: str, *, chat: int | str | None = None) -> dict[str, Any]:
        """A user sends a sticker, a photo or a document (no text), with the fields the Bot API gives."""
        if kind not in ATTACHMENTS:
            raise ValueError(f"kind is one of {', '.join(ATTACHMENTS)}")
        sender = self._user(user)
        where = self.chat(chat) if chat is not None else sender
        unique = f"AgAD{next(self._attachments)}"
        return self._push("message", self._user_message(sender, where, **{kind: ATTACHMENTS[kind](unique)}))

    def inject_callback_query(self, user: Chat | int, data: str, message: Message | None = None) -> dict[str, Any]:
        sender = self._user(user)
        query: dict[str, Any] = {"id": self.state.new_query_id("callback"), "from": sender.as_user(),
                                 "chat_instance": str(abs(hash((sender.id, message and message.chat_id)))),
                                 "data": data}
        if message is not None:
            query["message"] = methods.message_json(self._context, message)
        return self._push("callback_query", query)

    def inject_inline_query(self, user: Chat | int, query: str, *, offset: str = "") -> dict[str, Any]:
        sender = self._user(user)
        payload = {"id": self.state.new_query_id("inline"), "from": sender.as_user(), "query": query,
                   "offset": offset, "chat_type": "sender"}
        return self._push("inline_query", payload)

    # --- HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if request.match_info["token"] != self.token:
            return self._json(ApiError(401, "Unauthorized").body(), 401)
        self.requests[method] += 1
        params: dict[str, Any] = {}
        try:
            params = await _read_params(request)
            fault = self.faults.take(method)
            if fault and not fault.after and fault.delay:
                await asyncio.sleep(fault.delay)
                if request.transport is None or request.transport.is_closing():
                    log.info("sandbox %s: client gave up during the injected delay; not processed", method)
                    return web.Response(status=499)
            if fault and fault.status:
                raise ApiError(fault.status, fault.description or "Internal Server Error")
            result = await self._call(method, params)
            if fault and fault.after and fault.delay:
                await asyncio.sleep(fault.delay)
        except (AttributeError, KeyError, TypeError, ValueError):
            # Malformed parameters (a keyboard that is not a list of rows…): the real server
            # answers 400; the traceback stays in the log in case it is a sandbox bug.
            log.warning("sandbox %s: malformed request", method, exc_info=True)
            error = ApiError(400, "Bad Request: invalid request parameters")
            return self._json(error.body(), 400)
        except ApiError as error:
            log.info("sandbox %s chat=%s → %d %s", method, params.get("chat_id", "-"), error.code, error.description)
            return self._json(error.body(), error.code)
        if method in methods.SENDING or method.startswith(("edit", "delete")):
            log.info("sandbox %s chat=%s → 200", method, params.get("chat_id", "-"))
        return self._json({"ok": True, "result": result}, 200)

    @staticmethod
    def _json(body: dict[str, Any], status: int) -> web.Response:
        return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getupdates":
            return await self._get_updates(params)
        handler = methods.METHODS.get(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        if method not in methods.SENDING:
            return handler(self._context, params)
        try:
            chat = self.state.resolve(params.get("chat_id"))
        except ApiError:
            return handler(self._context, params)  # answers "chat not found" itself
        paid = methods.flag(params, "allow_paid_broadcast")
        wait = self.limiter.check(chat.id, chat.type, paid, self.clock.monotonic())
        if wait:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        result = handler(self._context, params)  # synchronous: nothing runs between check and record
        self.limiter.record(chat.id, chat.type, paid, self.clock.monotonic())
        return result

    # --- getUpdates: https://core.telegram.org/bots/api#getupdates
    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.state.webhook.get("url"):
            raise ApiError(409, WEBHOOK_ACTIVE)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)  # the older request loses, as on the real server
        loop = asyncio.get_running_loop()
        me: asyncio.Future[None] = loop.create_future()
        self._poller = me
        try:
            try:
                offset = int(params.get("offset") or 0)
                limit = min(max(int(params.get("limit") or 100), 1), 100)
                deadline = loop.time() + max(float(params.get("timeout") or 0), 0.0)
            except (TypeError, ValueError):
                raise ApiError(400, "Bad Request: wrong parameter in getUpdates request") from None
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = params["allowed_updates"]  # persists, like the real server
            self._confirm(offset)
            while True:
                found = self._pending(offset, limit)
                remaining = deadline - loop.time()
                if found or remaining <= 0:
                    return found
                waiter: asyncio.Future[Any] = loop.create_task(self._new_update.wait())
                await asyncio.wait([waiter, me], timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if me.done():
                    raise ApiError(409, CONFLICT)
        finally:
            if self._poller is me:
                self._poller = None

    def _confirm(self, offset: int) -> None:
        updates = self.state.updates
        if offset > 0:
            updates[:] = [u for u in updates if u["update_id"] >= offset]
        elif offset < 0:
            updates[:] = updates[offset:]

    def _pending(self, offset: int, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates)
        return [u for u in self.state.updates
                if u["update_id"] >= offset and (not allowed or allowed & u.keys())][:limit]

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook in order; retry each failure after a second."""
        self._http = self._http or ClientSession(timeout=ClientTimeout(total=10))
        while self.state.updates and self.state.webhook.get("url"):
            update, hook = self.state.updates[0], self.state.webhook
            headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook.get("secret_token") else {}
            try:
                async with self._http.post(hook["url"], json=update, headers=headers) as response:
                    ok, error = response.status < 300, f"Wrong response from the webhook: {response.status} {response.reason}"
            except Exception as exc:
                ok, error = False, f"Connection error: {type(exc).__name__}"
            if ok:
                self.state.updates.pop(0)
            else:
                hook["last_error_date"], hook["last_error_message"] = int(self.clock.now().timestamp()), error
                await asyncio.sleep(1)


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
            params.update(body if isinstance(body, dict) else {})
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = f"upload:{value.filename}" if isinstance(value, web.FileField) else value
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"), value)
        elif key in methods.JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params
