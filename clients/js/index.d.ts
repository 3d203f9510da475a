// Types of parley-client's API. The frames' own types are generated: src/frames.d.ts.

import type {
  AttachmentData,
  Author,
  Error as ErrorFrame,
  FrameEventMap,
  Message,
  MessageData,
  MessageUpdated,
  Reactions,
} from "./src/frames.js";

export type * from "./src/frames.js";

/** The connection's state. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** The server's error codes, and the client's own `closed`. */
export type ErrorCode = ErrorFrame["code"] | "closed";

/** A request Parley refused, or one the client could not carry out. */
export declare class ParleyError extends Error {
  constructor(
    code: ErrorCode,
    detail: string,
    options?: { retryAfter?: number | null; closeCode?: number | null; ref?: string | number | null },
  );
  /** The server's code (invalid, forbidden, not_found, too_large, rate_limited, unavailable, internal) or `closed`. */
  readonly code: ErrorCode;
  /** A sentence for people: what was wrong and what to do. */
  readonly detail: string;
  /** With rate_limited: seconds after which the same request can succeed. */
  readonly retryAfter: number | null;
  /** The WebSocket close code, when the error ended the connection (4401: the sign-in ended). */
  readonly closeCode: number | null;
  readonly ref: string | number | null;
  static fromFrame(frame: ErrorFrame): ParleyError;
}

/** A WebSocket constructor: the browser's, or one such as the `ws` package's on Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => unknown;

export interface ParleyClientOptions {
  /** An API token (`manage.py issuetoken`), sent as `Authorization: Bearer`; needs a WebSocket that can send headers (ws). Without one: the browser session's cookies, or a guest. */
  token?: string;
  /** The WebSocket implementation; defaults to globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** The back-off's base in ms (default 250): attempt n waits a random time up to min(max, min * 2^n). */
  minReconnectDelay?: number;
  /** The back-off's cap in ms (default 15000). */
  maxReconnectDelay?: number;
  /** Ping a quiet socket this often (ms, default 30000) and drop it when the ping goes unanswered; 0 turns it off. */
  heartbeat?: number;
  /** The server's PARLEY_MAX_FRAME in bytes (default 65536): longer sends are refused before they go out. */
  maxFrame?: number;
  /** Requests sent and not yet answered, at most (default 16). */
  maxInFlight?: number;
  /** Fires `online` when the network is back (default: the browser's window; none on Node): a reconnect waiting out its back-off then goes at once. */
  network?: EventTarget | null;
  /** The HTTP API's root, for upload() (default: `api/` beside the WebSocket's `ws/`, e.g. https://chat.example.com/chat/api/). */
  api?: string;
  /** The XMLHttpRequest upload() uses, for its progress (default: the runtime's; null: use fetch). */
  XMLHttpRequest?: (new () => XMLHttpRequest) | null;
  /** The fetch upload() uses where there is no XMLHttpRequest (default: the runtime's). */
  fetch?: typeof fetch;
}

/** How far an upload has gone, in bytes. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** The file's name, for a Blob that has none (a File's own name otherwise). */
  name?: string;
  /** Hears the upload's progress (with XMLHttpRequest; with fetch only its end). */
  onProgress?: (progress: UploadProgress) => void;
  /** Cancels the upload: the promise rejects with code `closed`. */
  signal?: AbortSignal;
  /** Django's CSRF token, sent as X-CSRFToken: needed when a browser's session signs the upload in. */
  csrfToken?: string;
}

export interface SendOptions {
  /** The sender's id for this message (default: a new UUID); a retry with it stores nothing new. */
  clientId?: string;
  /** Post it as a reply in the thread of this message (its seq). */
  replyTo?: number;
  /** Ids of files uploaded to the room (upload()) to attach. */
  attachments?: number[];
}

export interface Subscription {
  room: string;
  /** The room's latest seq when the subscription started. */
  head: number;
  /** More messages were missed than were replayed (the client fetches the rest from history). */
  truncated: boolean;
}

export interface SendAck {
  room: string;
  seq: number;
  id: number;
  client_id: string;
}

export interface UnreadState {
  room: string;
  count: number;
  last_read: number;
}

/**
 * Every event and what its listener gets: the client's own, and (FrameEventMap, generated from the
 * protocol's server frame types) each server frame passed on as the event of its type.
 */
export interface ParleyEvents extends FrameEventMap {
  /** A stored message of a subscribed room: each once, in seq order per room. */
  message: Message;
  state: ConnectionState;
  /** An error no request is waiting for, a room lost on resubscribing, or the end of the connection (4401). */
  error: ParleyError;
  /** A request of yours was refused for now (rate_limited, unavailable, internal) and goes again after `delay` ms. */
  retrying: { frame: Record<string, unknown>; error: ParleyError; delay: number };
  /** A room is followed (again, after every reconnect). */
  subscribed: Subscription;
  /** The server took a room away (a ban, a removal), or a resubscription was refused. */
  unsubscribed: { room: string; detail: string };
}

export declare class ParleyClient {
  constructor(url: string, options?: ParleyClientOptions);
  readonly state: ConnectionState;
  on<E extends keyof ParleyEvents>(event: E, listener: (value: ParleyEvents[E]) => void): () => void;
  off<E extends keyof ParleyEvents>(event: E, listener: (value: ParleyEvents[E]) => void): void;
  subscribe(room: string, options?: { since?: number }): Promise<Subscription>;
  unsubscribe(room: string): Promise<void>;
  send(room: string, body: string, options?: SendOptions): Promise<SendAck>;
  upload(room: string, file: Blob, options?: UploadOptions): Promise<AttachmentData>;
  history(room: string, options?: { before?: number; limit?: number; thread?: number }): Promise<MessageData[]>;
  edit(room: string, seq: number, body: string): Promise<MessageUpdated>;
  delete(room: string, seq: number): Promise<MessageUpdated>;
  react(room: string, seq: number, emoji: string, on?: boolean): Promise<Reactions>;
  read(room: string, seq: number): Promise<UnreadState>;
  typing(room: string): void;
  online(room: string): Author[];
  notifications(options?: { since?: number }): Promise<{ unread: number; truncated: boolean }>;
  markNotificationRead(id: number): Promise<number>;
  markAllNotificationsRead(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
