// Types of roomactors.js: the RoomActors client for the wire protocol roomactors.v1.

/** The WebSocket subprotocol this client speaks: `"roomactors.v1"`. */
export declare const SUBPROTOCOL: "roomactors.v1";

/** A WebSocket constructor: the browser's, node's global one (node 20: `--experimental-websocket`), or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export interface RoomSocketOptions {
  /** `host[:port]` of a gateway. Default: `location.host` in a browser; required elsewhere. */
  host?: string;
  /** The room type (`/rooms/{type}/…`). */
  type: string;
  /** The room name (`/rooms/…/{name}`): 1–128 characters of `A-Z a-z 0-9 . _ ~ -`. */
  name: string;
  /** Query parameters for the room's connect hook (`context.Query`). */
  query?: Record<string, string> | URLSearchParams | string;
  /** A ticket (when the server's auth is on), or a function giving a fresh one before each connect. */
  ticket?: string | (() => string | Promise<string>);
  /** `wss` instead of `ws`. Default: `location.protocol === "https:"`, else false. */
  secure?: boolean;
  /** The WebSocket constructor. Default: `globalThis.WebSocket`. */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocketLike;
  /** How many messages may wait to be sent or acknowledged; a send over it rejects at once. Default 1000. */
  maxBufferedMessages?: number;
  /** The first reconnect waits between half of this and this, in ms; each failed attempt doubles it. Default 250. */
  minReconnectDelayMs?: number;
  /** The longest reconnect wait, in ms. Default 10000. */
  maxReconnectDelayMs?: number;
  /** How long a connect may take until `welcome` or `resumed` arrives, in ms; then it counts as a drop. Default 10000. */
  connectTimeoutMs?: number;
}

/** What a resolved `send` says: the message's client id and the room's number when its turn ended. */
export interface Ack {
  id: number;
  seq: number;
}

/** `open`: after `welcome` (a new connection) or after `resumed` and its replayed messages. */
export interface OpenDetail {
  /** The connection id; the same after a resume. */
  id: string | number;
  /** True when the previous connection was resumed (no message was missed). */
  resumed: boolean;
  /** `lastSeq` at this point. */
  seq: number;
}

/** `resync`: the server could not resume the connection (4403, 4410); the library connects fresh. */
export interface ResyncDetail {
  code: number;
  reason: string;
}

/** One room message. */
export declare class RoomMessageEvent extends Event {
  readonly type: "message";
  /** A string for a text frame, an ArrayBuffer (the payload bytes) for a binary frame. */
  readonly data: string | ArrayBuffer;
  /** The room's number of this message. */
  readonly seq: number;
}

/** Every close of the underlying socket. */
export declare class RoomCloseEvent extends Event {
  readonly type: "close";
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  /** False for the final close: `close()` was called, or the server ended the connection for good. */
  readonly willReconnect: boolean;
}

/** `open` ({@link OpenDetail}), `resync` ({@link ResyncDetail}) and `error` (`{ error: Error }`). */
export declare class RoomEvent<T = unknown> extends Event {
  readonly detail: T;
}

export interface RoomSocketEventMap {
  open: RoomEvent<OpenDetail>;
  message: RoomMessageEvent;
  close: RoomCloseEvent;
  resync: RoomEvent<ResyncDetail>;
  error: RoomEvent<{ error: Error }>;
}

/**
 * A socket to one room that stays connected: it resumes after a drop (same connection id, the missed messages
 * replayed in order), re-sends what the room did not acknowledge (processed once), and connects fresh with a
 * `resync` event when the connection cannot be resumed.
 */
export declare class RoomSocket extends EventTarget {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;

  constructor(options: RoomSocketOptions);

  /** The connection id, or null before the first `welcome` and after a resync until the next one. */
  readonly id: string | number | null;
  /** The room's number of the last message or ack seen; null before the first `welcome`. */
  readonly lastSeq: number | null;
  /** 0 connecting (also while reconnecting), 1 open, 2 closing, 3 closed for good. */
  readonly readyState: 0 | 1 | 2 | 3;

  onopen: ((event: RoomEvent<OpenDetail>) => void) | null;
  onmessage: ((event: RoomMessageEvent) => void) | null;
  onclose: ((event: RoomCloseEvent) => void) | null;
  onresync: ((event: RoomEvent<ResyncDetail>) => void) | null;
  onerror: ((event: RoomEvent<{ error: Error }>) => void) | null;

  /**
   * Sends a text (string) or binary message. Resolves when the room's turn that handled it ended; rejects when its
   * fate is unknown (a resync), when the socket closed for good first, or at once when `maxBufferedMessages`
   * messages already wait to be sent or acknowledged.
   */
  send(data: string | ArrayBuffer | ArrayBufferView): Promise<Ack>;

  /** Closes for good (no reconnect); sends not yet acknowledged reject. `code`: 1000 or 3000–4999. */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof RoomSocketEventMap>(
    type: K, listener: (event: RoomSocketEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof RoomSocketEventMap>(
    type: K, listener: (event: RoomSocketEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** A frame's header and body (spec: frames). The body is a string for a text frame, an ArrayBuffer for a binary one. */
export declare function parseFrame(data: string | ArrayBuffer | ArrayBufferView): { kind: string; fields: string[]; body: string | ArrayBuffer };

/** A decimal header number of 0..2^53−1, else NaN. */
export declare function parseNumber(field: string | undefined): number;

/** The client frame `m ID\nPAYLOAD`: a string for a text payload, a Uint8Array for a binary one. */
export declare function encodeMessage(id: number, payload: string | ArrayBuffer | ArrayBufferView): string | Uint8Array;

/** The jittered exponential wait before reconnect attempt `attempt` (0-based), in ms. */
export declare function reconnectDelay(attempt: number, minMs: number, maxMs: number, random?: () => number): number;

/** What a close code means for the client: resume, resync (start fresh) or final (stop). */
export declare function closePolicy(code: number): "resume" | "resync" | "final";
