// ParleyClient: protocol v1 over one WebSocket (docs/protocol.md in Parley's repository), with the
// client's half of Parley's delivery promise: reconnect with back-off and full jitter, resubscribe
// with `since`, fill gaps from `history`, resend unacknowledged sends with the same client_id.
//
// A plain ES module with no imports but its own files, so that a page can load it as it is.

import { ParleyError } from "./errors.js";
import { apiRootFor, uploadFile } from "./upload.js";

const DEFAULTS = {
  minReconnectDelay: 250, // ms: the back-off's base; attempt n waits up to min(max, min * 2^n)
  maxReconnectDelay: 15000, // ms: the back-off's cap
  heartbeat: 30000, // ms: ping a quiet socket this often, and drop it when a ping goes unanswered (0: off)
  maxFrame: 64 * 1024, // bytes: PARLEY_MAX_FRAME; a bigger frame would close the socket (1009)
  maxInFlight: 16, // requests sent and not yet answered, at most
};

const HISTORY_PAGE = 100; // the largest page the server gives
const CLOSE_SIGNED_OUT = 4401;
const CLOSE_RATE_LIMITED = 4429;
const CLOSE_NO_ANSWER = 4000; // ours: a ping went unanswered
// The server stored nothing and says the same frame can succeed later.
const RETRYABLE = new Set(["rate_limited", "unavailable", "internal"]);
// `internal` may be a bug that every retry meets again: give up after a few.
const INTERNAL_RETRIES = 3;
// After a refusal for a rate limit, frames are paced for this long (ms) at the rate it implied.
const PACE_COOLDOWN = 5000;

const STATES = new Set(["connecting", "open", "reconnecting", "closed"]);

function newClientId() {
  const crypto = globalThis.crypto;
  if (crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  let id = "";
  for (let i = 0; i < 32; i += 1) id += Math.floor(Math.random() * 16).toString(16);
  return id;
}

function utf8Length(text) {
  if (typeof TextEncoder === "function") return new TextEncoder().encode(text).length;
  return unescape(encodeURIComponent(text)).length;
}

function authorKey(author) {
  return author.guest ? `guest:${author.name}` : `user:${author.id}`;
}

function checkRoom(room) {
  if (typeof room !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(room)) {
    throw new ParleyError("invalid", `A room is a slug of 1 to 64 letters, digits, '-' or '_', not ${JSON.stringify(room)}.`);
  }
}

function checkSeq(name, value, { optional = false } = {}) {
  if (optional && (value === undefined || value === null)) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ParleyError("invalid", `${name} must be an integer of 0 or more, not ${JSON.stringify(value)}.`);
  }
}

/**
 * A connection to Parley's WebSocket (`/ws/`) that keeps Parley's delivery promise: every message
 * of a subscribed room once, in seq order; sends stored once, across reconnects.
 *
 * Events (client.on(name, listener)): message, state, error, retrying, subscribed, unsubscribed,
 * presence, presence_diff, typing, message_updated, reactions, thread, unread, notification,
 * notifications_unread.
 */
export class ParleyClient {
  #url;
  #options;
  #WebSocket;
  #listeners = new Map();
  #state = "connecting";
  #socket = null;
  #everOpen = false;
  #closed = false;
  #attempt = 0;
  #reconnectTimer = null;
  #retryAfterClose = 0; // ms the server asked us to wait before reconnecting (a refused handshake)
  #serverWaitUntil = 0; // no reconnect before this time, even when the network comes back
  #network = null; // fires "online" when the network is back (a browser's window)
  #onOnline = () => this.#reconnectNow();
  #lastError = null; // the last error frame without ref: why a close or a lost room happened
  #heartbeatTimer = null;
  #heardSinceBeat = true;
  #pingedSinceBeat = false;

  #nextRef = 0;
  #requests = new Map(); // ref -> request: everything asked and not yet answered, in order
  #queue = []; // requests waiting to go out on the current socket, oldest first
  #inFlight = new Set(); // requests sent on the current socket, unanswered
  #pumpTimer = null;
  #holdUntil = 0; // no frame goes out before this time (a rate limit's retry_after)
  #pace = 0; // ms between frames while a rate limit was hit recently
  #paceUntil = 0;
  #lastTransmit = 0;

  #rooms = new Map(); // room -> {lastSeq, buffer, gap, online, subscribeRequest}
  #followNotifications = false;
  #lastNotificationId = 0;

  /**
   * @param {string} url the WebSocket's address, e.g. "wss://chat.example.com/ws/"
   * @param {object} [options] token, WebSocket, minReconnectDelay, maxReconnectDelay, heartbeat,
   *   maxFrame, maxInFlight, network, api (the HTTP API's root, for uploads), XMLHttpRequest, fetch
   */
  constructor(url, options = {}) {
    this.#url = String(url);
    this.#options = { ...DEFAULTS, ...options };
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== "function") {
      throw new TypeError(
        "This runtime has no WebSocket: pass one, e.g. new ParleyClient(url, { WebSocket }) with WebSocket from the ws package.",
      );
    }
    const browser = typeof window !== "undefined" && typeof document !== "undefined";
    if (options.token && browser && this.#WebSocket === globalThis.WebSocket) {
      // A browser's WebSocket cannot send an Authorization header: the token would be dropped
      // silently and the socket would act as the page's session or a guest instead.
      throw new TypeError("A browser's WebSocket cannot carry a token: leave it out to use the page's session.");
    }
    // When the browser says the network is back, a reconnect waiting out its back-off goes at once.
    this.#network = options.network ?? (typeof window !== "undefined" ? window : null);
    this.#network?.addEventListener?.("online", this.#onOnline);
    // Connect once the caller has had the chance to add listeners ("connecting" included).
    queueMicrotask(() => {
      if (!this.#closed) this.#connect();
    });
  }

  /** The connection's state: "connecting", "open", "reconnecting" or "closed". */
  get state() {
    return this.#state;
  }

  /** Call `listener` for every `event`; returns a function that removes it. */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.off(event, listener);
  }

  /** Stop calling `listener` for `event`. */
  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Follow a room: with `since`, the messages after that seq come first. Resolves with
   * {room, head, truncated} once the server answers `subscribed`; after a reconnect the room is
   * followed again from the last message delivered.
   */
  subscribe(room, { since } = {}) {
    try {
      checkRoom(room);
      checkSeq("since", since, { optional: true });
    } catch (error) {
      return Promise.reject(error);
    }
    const known = this.#rooms.get(room);
    if (known?.subscribeRequest) this.#forget(known.subscribeRequest);
    const state = { lastSeq: since ?? known?.lastSeq ?? null, buffer: new Map(), gap: null, online: new Map() };
    this.#rooms.set(room, state);
    return this.#subscribeRoom(room, state).then(({ room: name, head, truncated }) => ({ room: name, head, truncated }));
  }

  /** Stop following a room. Its messages are no longer delivered, even those on their way. */
  async unsubscribe(room) {
    checkRoom(room);
    const state = this.#rooms.get(room);
    if (!state) return;
    if (state.subscribeRequest) this.#forget(state.subscribeRequest);
    if (state.gap) this.#forget(state.gap);
    this.#rooms.delete(room);
    // A new socket follows nothing: only the current one has anything to stop.
    if (this.#state === "open") this.#transmitNow({ type: "unsubscribe", room });
  }

  /**
   * Post a message. Resolves with {room, seq, id, client_id} once the server has stored it,
   * however many reconnects that takes; a retry never stores it twice (same client_id). Sends are
   * stored in the order they were made. `replyTo` (a seq) posts it in that message's thread;
   * `attachments` are ids of files uploaded to the room (upload()).
   */
  send(room, body, { clientId, replyTo, attachments } = {}) {
    try {
      checkRoom(room);
      if (typeof body !== "string" || !body.trim()) throw new ParleyError("invalid", "A message needs some text.");
      checkSeq("replyTo", replyTo, { optional: true });
      if (attachments !== undefined && !Array.isArray(attachments)) {
        throw new ParleyError("invalid", "attachments must be an array of the ids upload() resolved with.");
      }
      for (const id of attachments ?? []) checkSeq("an attachment id", id);
    } catch (error) {
      return Promise.reject(error);
    }
    const frame = { type: "send", room, body, client_id: clientId ?? newClientId() };
    if (replyTo !== undefined && replyTo !== null) frame.reply_to = replyTo;
    if (attachments?.length) frame.attachments = [...attachments];
    const size = utf8Length(JSON.stringify(frame)) + 64; // room for the ref
    if (size > this.#options.maxFrame) {
      return Promise.reject(new ParleyError("too_large", `This message is too long to send (${size} bytes in a frame).`));
    }
    return this.#request(() => frame, { ordered: true }).then(({ room: name, seq, id, client_id }) => ({
      room: name,
      seq,
      id,
      client_id,
    }));
  }

  /**
   * Upload a file (a Blob or File) to a room, to attach to a message you then send there.
   * Resolves with the attachment record ({id, name, content_type, size, url, thumbnail_url, width,
   * height, animated}); rejects with a ParleyError carrying the server's sentence (too_large says
   * which limit, and the number). `onProgress({loaded, total})` hears the progress where the
   * runtime has XMLHttpRequest (browsers); `signal` cancels; `csrfToken` is needed with a
   * browser's session (Django's CSRF token), not with a token.
   */
  upload(room, file, { name, onProgress, signal, csrfToken } = {}) {
    try {
      checkRoom(room);
      if (!file || typeof file.size !== "number") throw new ParleyError("invalid", "upload() takes a File or a Blob.");
    } catch (error) {
      return Promise.reject(error);
    }
    const headers = {};
    if (this.#options.token) headers.Authorization = `Bearer ${this.#options.token}`;
    if (csrfToken) headers["X-CSRFToken"] = csrfToken;
    const api = this.#options.api ?? apiRootFor(this.#url);
    return uploadFile({
      url: `${api}rooms/${encodeURIComponent(room)}/attachments`,
      file,
      name,
      headers,
      onProgress,
      signal,
      XMLHttpRequest: "XMLHttpRequest" in this.#options ? this.#options.XMLHttpRequest : globalThis.XMLHttpRequest,
      fetch: this.#options.fetch ?? globalThis.fetch?.bind(globalThis),
    });
  }

  /**
   * A page of a room's messages before `before` (the newest without it), oldest first. With
   * `thread` (a seq): that thread instead, its original first and then its replies.
   */
  history(room, { before, limit, thread } = {}) {
    try {
      checkRoom(room);
      checkSeq("before", before, { optional: true });
      checkSeq("thread", thread, { optional: true });
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_PAGE)) {
        throw new ParleyError("invalid", `limit must be an integer from 1 to ${HISTORY_PAGE}.`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const frame = { type: "history", room };
    if (before !== undefined && before !== null) frame.before = before;
    if (limit !== undefined) frame.limit = limit;
    if (thread !== undefined && thread !== null) frame.thread = thread;
    return this.#request(() => frame).then((page) => page.messages);
  }

  /** Replace the body of one of your messages; resolves with the `message_updated` frame. */
  edit(room, seq, body) {
    return this.#roomRequest(room, seq, () => ({ type: "edit", room, seq, body }));
  }

  /** Delete a message (yours, or any in a room you moderate); resolves with `message_updated`. */
  delete(room, seq) {
    return this.#roomRequest(room, seq, () => ({ type: "delete", room, seq }));
  }

  /** Put an emoji on a message (`on` false takes yours off); resolves with `reactions`. */
  react(room, seq, emoji, on = true) {
    return this.#roomRequest(room, seq, () => ({ type: "react", room, seq, emoji, on: Boolean(on) }));
  }

  /** Move your read marker in a room forward to `seq`; resolves with {room, count, last_read}. */
  read(room, seq) {
    return this.#roomRequest(room, seq, () => ({ type: "read", room, seq })).then(({ room: name, count, last_read }) => ({
      room: name,
      count,
      last_read,
    }));
  }

  /** Tell the room's other sockets you are typing (a room you follow). Nothing is answered. */
  typing(room) {
    checkRoom(room);
    if (this.#state === "open") this.#transmitNow({ type: "typing", room });
  }

  /** Who is in a room you follow, as its last `presence` and `presence_diff` frames say. */
  online(room) {
    return [...(this.#rooms.get(room)?.online.values() ?? [])];
  }

  /**
   * Replay your notifications after `since` (an id; all of them without it), and after every
   * reconnect those after the last one seen. Resolves with {unread, truncated}.
   */
  notifications({ since } = {}) {
    try {
      checkSeq("since", since, { optional: true });
    } catch (error) {
      return Promise.reject(error);
    }
    this.#followNotifications = true;
    this.#lastNotificationId = since ?? 0;
    return this.#notificationsRequest().then(({ unread, truncated }) => ({ unread, truncated }));
  }

  /** Mark one notification read; resolves with the unread count. */
  markNotificationRead(id) {
    try {
      checkSeq("id", id);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#request(() => ({ type: "notification_read", id })).then((frame) => frame.count);
  }

  /** Mark every notification read; resolves with the unread count. */
  markAllNotificationsRead() {
    return this.#request(() => ({ type: "notification_read", all: true })).then((frame) => frame.count);
  }

  /** Ask the server for a pong. */
  ping() {
    return this.#request(() => ({ type: "ping" })).then(() => undefined);
  }

  /**
   * Close the connection for good: no more reconnecting; every unanswered request (unacknowledged
   * sends included) is rejected with ParleyError "closed". Resolves once the socket is closed.
   */
  close() {
    if (this.#closed) return Promise.resolve();
    this.#shutdown(new ParleyError("closed", "The client was closed."));
    const socket = this.#socket;
    this.#socket = null;
    if (!socket || socket.readyState === 3) return Promise.resolve();
    return new Promise((resolve) => {
      socket.onclose = () => resolve();
      socket.onmessage = null;
      // Closing a socket still connecting throws in some implementations; it closes all the same.
      try {
        socket.close(1000);
      } catch {
        resolve();
      }
    });
  }

  // --- events -----------------------------------------------------------------------------------

  #emit(event, value) {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        // A listener's bug must not break delivery: report it as an uncaught error would be.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  #setState(state) {
    if (!STATES.has(state) || state === this.#state) return;
    this.#state = state;
    this.#emit("state", state);
  }

  // --- the connection ---------------------------------------------------------------------------

  #connect() {
    this.#reconnectTimer = null;
    if (!this.#everOpen && this.#attempt === 0) this.#emit("state", "connecting"); // the first one
    this.#setState(this.#everOpen ? "reconnecting" : "connecting");
    let socket;
    try {
      const token = this.#options.token;
      // The server reads a token from the Authorization header only. ws (and undici's WebSocket)
      // take headers in an options object in place of the subprotocols.
      socket = token
        ? new this.#WebSocket(this.#url, { headers: { Authorization: `Bearer ${token}` } })
        : new this.#WebSocket(this.#url);
    } catch (error) {
      this.#emit("error", new ParleyError("unavailable", `Could not open a WebSocket: ${error.message}`));
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket === socket) this.#opened();
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#received(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#dropped(event.code);
    };
    socket.onerror = () => {}; // a close event follows, with its code
  }

  #opened() {
    this.#everOpen = true;
    this.#lastError = null;
    // What was asked and not answered goes out again (a request waiting out a retry delay goes
    // when it is over); then every room again, from the last message delivered. The queue is
    // made before "open" is announced: a request a state listener makes joins it once, in order.
    this.#queue = [...this.#requests.values()].filter((request) => request.timer === null);
    this.#setState("open");
    this.#startHeartbeat();
    for (const [room, state] of this.#rooms) {
      if (!state.subscribeRequest) this.#subscribeRoom(room, state, { internal: true }).catch(() => {});
    }
    if (this.#followNotifications && ![...this.#requests.values()].some((r) => r.notifications)) {
      this.#notificationsRequest().catch(() => {});
    }
    this.#pump();
  }

  #dropped(code) {
    this.#socket = null;
    this.#stopHeartbeat();
    this.#inFlight.clear();
    this.#queue = [];
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    for (const state of this.#rooms.values()) {
      // The resubscription replays from lastSeq: what was held back or being fetched comes again.
      state.buffer.clear();
      if (state.gap) this.#forget(state.gap);
      state.gap = null;
      state.online.clear();
    }
    if (this.#closed) return;
    if (code === CLOSE_SIGNED_OUT) {
      const reason = this.#lastError;
      const error = new ParleyError(reason?.code ?? "forbidden", reason?.detail ?? "The server ended this sign-in (4401).", {
        closeCode: code,
      });
      this.#shutdown(error);
      this.#emit("error", error);
      return;
    }
    if (code === CLOSE_RATE_LIMITED && this.#lastError?.retryAfter) {
      this.#retryAfterClose = this.#lastError.retryAfter * 1000;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const { minReconnectDelay, maxReconnectDelay } = this.#options;
    // Full jitter: anywhere from 0 to the exponential bound, so that clients dropped together
    // (a server restart) do not all come back at the same moment.
    const bound = Math.min(maxReconnectDelay, minReconnectDelay * 2 ** this.#attempt);
    const delay = Math.max(Math.random() * bound, this.#retryAfterClose);
    this.#serverWaitUntil = Date.now() + this.#retryAfterClose;
    this.#retryAfterClose = 0;
    this.#attempt += 1;
    this.#setState(this.#everOpen ? "reconnecting" : "connecting");
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  // The network is back: try now rather than at the end of the back-off, unless the server asked
  // for the wait (a handshake over its rate limit would only be refused again).
  #reconnectNow() {
    if (this.#closed || this.#reconnectTimer === null || Date.now() < this.#serverWaitUntil) return;
    clearTimeout(this.#reconnectTimer);
    this.#connect();
  }

  #shutdown(error) {
    this.#closed = true;
    this.#network?.removeEventListener?.("online", this.#onOnline);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#pumpTimer);
    this.#stopHeartbeat();
    for (const request of this.#requests.values()) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    this.#requests.clear();
    this.#queue = [];
    this.#inFlight.clear();
    this.#setState("closed");
  }

  #startHeartbeat() {
    const every = this.#options.heartbeat;
    if (!every) return;
    this.#heardSinceBeat = true;
    this.#pingedSinceBeat = false;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#heardSinceBeat) {
        this.#heardSinceBeat = false;
        this.#pingedSinceBeat = false;
        return;
      }
      if (!this.#pingedSinceBeat) {
        this.#pingedSinceBeat = true;
        this.#transmitNow({ type: "ping" });
        return;
      }
      // Nothing for a whole beat after a ping: the peer is gone without a close (a dead network).
      const socket = this.#socket;
      this.#dropped(CLOSE_NO_ANSWER);
      try {
        socket?.close(CLOSE_NO_ANSWER);
      } catch {
        // already closing
      }
    }, every);
  }

  #stopHeartbeat() {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  // --- requests: frames that are answered -------------------------------------------------------

  // `build` makes the frame when it goes out, so that a resubscription asks `since` the latest seq.
  // `onReply` and `onRefused` run as the answer is read, before any later frame is.
  #request(build, options = {}) {
    return this.#newRequest(build, options).promise;
  }

  #newRequest(build, { ordered = false, internal = false, notifications = false, onReply, onRefused } = {}) {
    const order = ++this.#nextRef;
    const request = { ref: `r${order}`, order, build, ordered, internal, notifications, onReply, onRefused };
    request.tries = 0;
    request.internalErrors = 0;
    request.timer = null;
    request.promise = new Promise((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    if (this.#closed) {
      request.reject(new ParleyError("closed", "The client was closed."));
      return request;
    }
    this.#requests.set(request.ref, request);
    this.#enqueue(request);
    return request;
  }

  #roomRequest(room, seq, build) {
    try {
      checkRoom(room);
      checkSeq("seq", seq);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#request(build);
  }

  #forget(request) {
    clearTimeout(request.timer);
    this.#requests.delete(request.ref);
    this.#inFlight.delete(request);
    this.#queue = this.#queue.filter((queued) => queued !== request);
    request.reject(new ParleyError("closed", "The request was withdrawn."));
  }

  #enqueue(request) {
    if (this.#state !== "open") return; // sent by #opened
    let at = this.#queue.findIndex((queued) => queued.order > request.order);
    if (at === -1) at = this.#queue.length;
    this.#queue.splice(at, 0, request);
    this.#pump();
  }

  // Send what is queued, at most maxInFlight unanswered, one send at a time (so that sends are
  // stored in the order they were made), paced after a rate limit was hit.
  #pump() {
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    if (this.#state !== "open") return;
    const now = Date.now();
    if (now > this.#paceUntil) this.#pace = 0;
    // Only the oldest unacknowledged send may go out, and only when it is not out already.
    let firstSend = null;
    for (const request of this.#requests.values()) {
      if (request.ordered) {
        firstSend = request;
        break;
      }
    }
    for (let i = 0; i < this.#queue.length && this.#inFlight.size < this.#options.maxInFlight; ) {
      const request = this.#queue[i];
      if (request.ordered && request !== firstSend) {
        i += 1;
        continue;
      }
      const wait = Math.max(this.#holdUntil, this.#pace ? this.#lastTransmit + this.#pace : 0) - Date.now();
      if (wait > 0) {
        this.#pumpTimer = setTimeout(() => this.#pump(), wait);
        return;
      }
      this.#queue.splice(i, 1);
      this.#inFlight.add(request);
      this.#lastTransmit = Date.now();
      this.#transmitNow({ ...request.build(), ref: request.ref });
    }
  }

  #transmitNow(frame) {
    try {
      this.#socket?.send(JSON.stringify(frame));
    } catch {
      // The socket is closing: its close event brings the reconnect, and requests go out again.
    }
  }

  #answered(frame) {
    const request = this.#requests.get(frame.ref);
    if (!request) return false;
    this.#requests.delete(frame.ref);
    this.#inFlight.delete(request);
    request.onReply?.(frame);
    request.resolve(frame);
    this.#pump();
    return true;
  }

  #refused(frame) {
    const error = ParleyError.fromFrame(frame);
    const request = frame.ref === undefined || frame.ref === null ? undefined : this.#requests.get(frame.ref);
    if (!request) {
      this.#lastError = error;
      this.#emit("error", error);
      return;
    }
    this.#inFlight.delete(request);
    request.tries += 1;
    // Only `internal` refusals count towards its cap: an outage that says `unavailable` between
    // them is no sign of a bug that every retry meets again.
    if (error.code === "internal") request.internalErrors += 1;
    const retry = RETRYABLE.has(error.code) && request.internalErrors <= INTERNAL_RETRIES;
    if (!retry) {
      this.#requests.delete(request.ref);
      request.onRefused?.(error);
      request.reject(error);
      this.#pump();
      return;
    }
    let delay;
    if (error.code === "rate_limited" && typeof error.retryAfter === "number") {
      delay = error.retryAfter * 1000;
      // Hold every frame until then, and pace the next ones at the rate the refusal implies, so
      // that a backlog does not pile up refusals (the server closes sockets that collect 50).
      this.#holdUntil = Math.max(this.#holdUntil, Date.now() + delay);
      this.#pace = Math.max(this.#pace, delay);
      this.#paceUntil = Date.now() + PACE_COOLDOWN;
    } else {
      const bound = Math.min(this.#options.maxReconnectDelay, this.#options.minReconnectDelay * 2 ** request.tries);
      delay = Math.random() * bound;
    }
    request.timer = setTimeout(() => {
      request.timer = null;
      if (this.#requests.get(request.ref) === request) this.#enqueue(request);
    }, delay);
    // Callers' own requests only: a page can say "retrying…" beside a message not yet stored.
    if (!request.internal) this.#emit("retrying", { frame: request.build(), error, delay });
    this.#pump();
  }

  // --- frames from the server -------------------------------------------------------------------

  #received(data) {
    this.#heardSinceBeat = true;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame === null || typeof frame !== "object") return;
    if (frame.type === "error") {
      this.#refused(frame);
      return;
    }
    this.#attempt = 0; // the server answers: the next drop starts the back-off afresh
    switch (frame.type) {
      case "message":
        this.#arrived(frame);
        return;
      case "notification":
        if (frame.id <= this.#lastNotificationId) return;
        this.#lastNotificationId = frame.id;
        this.#emit("notification", frame);
        return;
      case "presence":
      case "presence_diff":
        this.#presence(frame);
        break;
      case "unsubscribed":
        if (this.#answered(frame)) return;
        this.#roomTakenAway(frame.room);
        return;
      default:
        break;
    }
    if (frame.ref !== undefined && frame.ref !== null && this.#answered(frame)) {
      // Replies that are states (message_updated, reactions, unread, notifications_unread) are
      // events too: the room's broadcast of the same state may come before or after.
      if (["message_updated", "reactions", "unread", "notifications_unread"].includes(frame.type)) {
        this.#emit(frame.type, frame);
      }
      return;
    }
    if (["subscribed", "history", "ack", "pong", "notifications"].includes(frame.type)) return;
    this.#emit(frame.type, frame);
  }

  #presence(frame) {
    const state = this.#rooms.get(frame.room);
    if (!state) return;
    if (frame.type === "presence") {
      state.online = new Map(frame.online.map((author) => [authorKey(author), author]));
    } else {
      for (const author of frame.left) state.online.delete(authorKey(author));
      for (const author of frame.joined) state.online.set(authorKey(author), author);
    }
  }

  #roomTakenAway(room) {
    const state = this.#rooms.get(room);
    if (!state) return;
    this.#rooms.delete(room);
    if (state.gap) this.#forget(state.gap);
    this.#emit("unsubscribed", { room, detail: this.#lastError?.detail ?? "" });
  }

  // --- rooms: in order, once ----------------------------------------------------------------------

  #subscribeRoom(room, state, { internal = false } = {}) {
    const build = () => {
      const frame = { type: "subscribe", room };
      if (state.lastSeq !== null) frame.since = state.lastSeq;
      return frame;
    };
    const request = this.#newRequest(build, {
      internal,
      onReply: (frame) => {
        state.subscribeRequest = null;
        this.#subscribed(room, state, frame);
      },
      onRefused: (error) => {
        state.subscribeRequest = null;
        if (this.#rooms.get(room) !== state) return;
        // The room does not exist or is closed to us (private, banned): stop following it.
        this.#rooms.delete(room);
        if (!internal) return; // the caller's promise says why
        this.#emit("error", error);
        this.#emit("unsubscribed", { room, detail: error.detail });
      },
    });
    state.subscribeRequest = request;
    return request.promise;
  }

  #subscribed(room, state, frame) {
    if (this.#rooms.get(room) !== state) return;
    // The room holds fewer messages than we had (a database restored from a backup, say): go on
    // from what it has rather than wait for seqs it will hand out again.
    if (state.lastSeq === null || frame.head < state.lastSeq) state.lastSeq = frame.head;
    this.#drain(room, state);
    this.#emit("subscribed", { room, head: frame.head, truncated: frame.truncated });
  }

  #arrived(message) {
    const state = this.#rooms.get(message.room);
    if (!state) return;
    if (state.lastSeq !== null && message.seq <= state.lastSeq) return; // delivered already
    state.buffer.set(message.seq, message);
    if (state.lastSeq === null) return; // before the first `subscribed` says where the room stands
    this.#drain(message.room, state);
  }

  // Deliver the held-back messages that follow the last one delivered; fetch a missing stretch.
  #drain(room, state) {
    while (state.buffer.has(state.lastSeq + 1)) {
      const message = state.buffer.get(state.lastSeq + 1);
      state.buffer.delete(message.seq);
      state.lastSeq = message.seq;
      this.#emit("message", message);
      if (this.#rooms.get(room) !== state) return; // a listener unsubscribed
    }
    for (const seq of state.buffer.keys()) if (seq <= state.lastSeq) state.buffer.delete(seq);
    if (state.buffer.size > 0) this.#fillGap(room, state);
  }

  // Missing messages (a truncated replay): page them in from `history`, oldest first.
  #fillGap(room, state) {
    if (state.gap || this.#state !== "open") return;
    const from = state.lastSeq + 1;
    const next = Math.min(...state.buffer.keys());
    const before = Math.min(from + HISTORY_PAGE, next);
    const onReply = (page) => {
      if (this.#rooms.get(room) !== state) return;
      state.gap = null;
      for (const message of page.messages) {
        if (message.seq > state.lastSeq) state.buffer.set(message.seq, { type: "message", ...message });
      }
      if (!state.buffer.has(state.lastSeq + 1)) {
        // The server has nothing to fill it with: say so, and go on after it rather than stall.
        this.#emit("error", new ParleyError("internal", `Messages ${from} to ${before - 1} of ${room} could not be fetched.`));
        state.lastSeq = Math.min(...state.buffer.keys()) - 1;
      }
      this.#drain(room, state);
    };
    const onRefused = (error) => {
      if (this.#rooms.get(room) !== state) return;
      state.gap = null;
      this.#emit("error", error);
    };
    const build = () => ({ type: "history", room, before, limit: before - from });
    state.gap = this.#newRequest(build, { internal: true, onReply, onRefused });
    state.gap.promise.catch(() => {});
  }

  #notificationsRequest() {
    return this.#request(
      () => ({ type: "notifications", since: this.#lastNotificationId }),
      { notifications: true, internal: true },
    );
  }
}
