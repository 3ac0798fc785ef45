// RoomActors client for the `roomactors.v1` wire protocol: a WebSocket to one room that resumes after a drop
// without losing or repeating messages, and acknowledged sends. An ES module with no dependencies: import it
// in a browser as is (the gateway serves it at /client/roomactors.js) or in node 20+ (global WebSocket, or pass one).

/** The WebSocket subprotocol this client speaks. */
export const SUBPROTOCOL = "roomactors.v1";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 10;

// ---------------------------------------------------------------------------------------------------------------
// Pure protocol logic: no I/O, unit-tested on its own.

/**
 * Splits a frame into its header line and body: `{ kind, fields, body }`. A text frame gives a string body, a binary
 * frame an ArrayBuffer body (the payload bytes, unchanged). The header ends at the first LF or the end of the frame.
 */
export function parseFrame(data) {
  if (typeof data === "string") {
    const lf = data.indexOf("\n");
    const [kind, ...fields] = (lf < 0 ? data : data.slice(0, lf)).split(" ");
    return { kind, fields, body: lf < 0 ? "" : data.slice(lf + 1) };
  }
  const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  const lf = bytes.indexOf(LF);
  const end = lf < 0 ? bytes.length : lf;
  const [kind, ...fields] = decoder.decode(bytes.subarray(0, end)).split(" ");
  return { kind, fields, body: bytes.slice(lf < 0 ? end : lf + 1).buffer };
}

/** A header field that must be a sequence number or client id: a decimal integer of 0..2^53-1, else NaN. */
export function parseNumber(field) {
  return typeof field === "string" && /^[0-9]{1,16}$/.test(field) && Number.isSafeInteger(Number(field)) ? Number(field) : NaN;
}

/** The frame `m ID\nPAYLOAD`: a text frame for a string payload, a binary frame (Uint8Array) for bytes. */
export function encodeMessage(id, payload) {
  const header = `m ${id}\n`;
  if (typeof payload === "string") {
    return header + payload;
  }
  const body = toBytes(payload);
  const frame = new Uint8Array(header.length + body.length);
  frame.set(encoder.encode(header), 0);
  frame.set(body, header.length);
  return frame;
}

/**
 * The wait before reconnect attempt `attempt` (0 for the first): exponential from `minMs`, capped at `maxMs`, with
 * "equal jitter" (between half and all of it) so that clients dropped together do not come back together.
 */
export function reconnectDelay(attempt, minMs, maxMs, random = Math.random) {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * What a socket close means (spec: close codes): `"resync"` — the connection cannot be resumed, start fresh;
 * `"final"` — the connection is over, do not reconnect; `"resume"` — reconnect and resume.
 * Final: 4409 (resumed on another socket), the policy closes 1002/1003/1007/1008/1009/1010, and the room's own
 * close (1000, 3000–4999 but the gateway's 4401). Everything else (4401 ticket expired: reconnect with a new ticket
 * from the `ticket` function; 1001 going away, 1006 dropped, 1011–1014) resumes.
 */
export function closePolicy(code) {
  if (code === 4403 || code === 4410) return "resync";
  if (code === 4401) return "resume";
  if (code === 1000 || [1002, 1003, 1007, 1008, 1009, 1010].includes(code) || (code >= 3000 && code <= 4999)) return "final";
  return "resume";
}

function toBytes(payload) {
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  throw new TypeError("send takes a string, an ArrayBuffer or a typed array (Uint8Array, Buffer, DataView)");
}

// ---------------------------------------------------------------------------------------------------------------
// Events

/** `message`: one room message. `data` is a string (text frame) or an ArrayBuffer (binary frame); `seq` its number. */
export class RoomMessageEvent extends Event {
  constructor(data, seq) {
    super("message");
    this.data = data;
    this.seq = seq;
  }
}

/** `close`: every close of the underlying socket. `willReconnect` says whether the library connects again. */
export class RoomCloseEvent extends Event {
  constructor(code, reason, wasClean, willReconnect) {
    super("close");
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
    this.willReconnect = willReconnect;
  }
}

/** `open`, `resync` and `error`: `detail` carries the data (`{ id, resumed, seq }`, `{ code, reason }`, `{ error }`). */
export class RoomEvent extends Event {
  constructor(type, detail) {
    super(type);
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The socket

/**
 * A socket to the room `/rooms/{type}/{name}` that stays connected: it resumes its connection after a drop (same id,
 * missed messages replayed in order), re-sends what the room did not acknowledge, and starts fresh with a `resync`
 * event when the server cannot resume. See README.md for the guarantees.
 */
export class RoomSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  /** The connection id (from `welcome`), or null before the first. */
  id = null;
  /** The room's number of the last message or ack seen (spec: last seen number); null before the first welcome. */
  lastSeq = null;
  /** 0 connecting (also between reconnects), 1 open, 2 closing, 3 closed for good. */
  readyState = RoomSocket.CONNECTING;
  /** Property handlers, as on a WebSocket. */
  onopen = null;
  onmessage = null;
  onclose = null;
  onresync = null;
  onerror = null;

  #options;
  #ws = null;
  #token = null;
  #nextId = 1;
  #unacked = []; // written with an id, waiting for its ack: { id, frame, resolve, reject }
  #waiting = []; // not written yet (before open, while offline): { payload, resolve, reject }
  #replayLeft = 0; // frames of a `resumed` replay still to come
  #replayEnd = 0; // the SEQ of that `resumed`
  #live = false; // welcome or resumed received on the current socket: writes go out at once
  #attempt = 0;
  #timer = null; // the wait before the next connect
  #deadline = null; // the wait for welcome or resumed on the current socket
  #closed = false;

  /**
   * @param {object} options see roomactors.d.ts (`RoomSocketOptions`): host, type, name, query, ticket, secure,
   * WebSocket, maxBufferedMessages, minReconnectDelayMs, maxReconnectDelayMs, connectTimeoutMs.
   */
  constructor(options) {
    super();
    const location = globalThis.location;
    this.#options = {
      host: location?.host,
      secure: location?.protocol === "https:",
      WebSocket: globalThis.WebSocket,
      maxBufferedMessages: 1000,
      minReconnectDelayMs: 250,
      maxReconnectDelayMs: 10000,
      connectTimeoutMs: 10000,
      ...options,
    };
    const o = this.#options;
    for (const key of ["host", "type", "name"]) {
      if (typeof o[key] !== "string" || o[key] === "") {
        throw new TypeError(`RoomSocket needs options.${key} (a non-empty string)${key === "host" ? ', e.g. "localhost:8080"' : ""}`);
      }
    }
    if (typeof o.WebSocket !== "function") {
      throw new TypeError("no WebSocket available: pass options.WebSocket (node 20 needs --experimental-websocket, or the ws package)");
    }
    if (!(o.maxBufferedMessages >= 1)) {
      throw new RangeError("options.maxBufferedMessages must be at least 1");
    }
    queueMicrotask(() => this.#closed || this.#connect()); // after the caller added its listeners
  }

  /**
   * Sends a text (string) or binary (ArrayBuffer, typed array) message. Resolves with `{ id, seq }` once the room's
   * turn that handled it ended; rejects if its fate is unknown (a resync), if the socket closed for good, or at once
   * if `maxBufferedMessages` are already waiting to be sent or acknowledged.
   */
  send(payload) {
    if (typeof payload !== "string") {
      try {
        payload = toBytes(payload).slice(); // a copy: the caller may reuse its buffer before the message is written
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#closed) {
      return Promise.reject(new Error("RoomSocket is closed (close() was called or the server ended the connection); create a new RoomSocket"));
    }
    const held = this.#unacked.length + this.#waiting.length;
    if (held >= this.#options.maxBufferedMessages) {
      return Promise.reject(new Error(`send buffer full: ${held} messages wait to be sent or acknowledged ` +
        `(maxBufferedMessages ${this.#options.maxBufferedMessages}); wait for earlier sends to resolve, or raise maxBufferedMessages`));
    }
    return new Promise((resolve, reject) => {
      const entry = { payload, resolve, reject };
      if (this.#live) {
        this.#write(entry);
      } else {
        this.#waiting.push(entry);
      }
    });
  }

  /** Closes for good: no reconnect; sends not yet acknowledged reject. `code` is 1000 or 3000–4999. */
  close(code = 1000, reason = "") {
    if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new RangeError(`close code ${code} cannot be sent by a client: use 1000 or 3000-4999`);
    }
    if (this.#closed) return;
    this.#finish(new Error(`RoomSocket closed by close(${code}) before the room acknowledged this message`));
    const ws = this.#ws;
    if (ws && ws.readyState < 2) {
      this.readyState = RoomSocket.CLOSING;
      ws.close(code, reason);
    } else {
      this.#ws = null;
      this.readyState = RoomSocket.CLOSED;
      this.#emit(new RoomCloseEvent(code, reason, true, false));
    }
  }

  // --- connecting

  async #connect() {
    this.#timer = null;
    const o = this.#options;
    let ticket = o.ticket;
    if (typeof ticket === "function") {
      try {
        ticket = await ticket();
      } catch (error) {
        // Retry: the ticket source (the app's backend) may be down for a moment; say why.
        this.#emit(new RoomEvent("error", { error }));
        this.#scheduleReconnect();
        return;
      }
      if (this.#closed) return;
    }
    const query = new URLSearchParams(o.query ?? {});
    if (ticket) query.set("ticket", ticket);
    if (this.#token !== null) {
      query.set("resume", this.#token);
      query.set("seq", String(this.lastSeq));
    }
    const scheme = o.secure ? "wss" : "ws";
    const q = query.toString();
    const url = `${scheme}://${o.host}/rooms/${encodeURIComponent(o.type)}/${encodeURIComponent(o.name)}${q ? "?" + q : ""}`;
    let ws;
    try {
      ws = new o.WebSocket(url, SUBPROTOCOL);
    } catch (error) {
      // A malformed URL (bad host) will not get better by retrying: close for good and say so.
      this.#emit(new RoomEvent("error", { error }));
      this.#finish(error);
      this.readyState = RoomSocket.CLOSED;
      this.#emit(new RoomCloseEvent(1006, String(error.message ?? error), false, false));
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#live = false;
    const where = url.replace(/([?&](ticket|resume)=)[^&]*/g, "$1…");
    this.#deadline = setTimeout(() => this.#abandon(ws, `no welcome from ${where} within ${o.connectTimeoutMs} ms`), o.connectTimeoutMs);
    this.#deadline.unref?.(); // node: the socket itself keeps the process alive, not the wait for its welcome
    ws.onopen = () => ws === this.#ws && this.#onSocketOpen(ws);
    ws.onmessage = e => ws === this.#ws && this.#onFrame(e.data);
    ws.onerror = () => {
      if (ws !== this.#ws) return;
      this.#emit(new RoomEvent("error", { error: new Error(`WebSocket error on ${where}`) }));
      // Browsers fire close right after error; node 20's WebSocket does not when the connection fails. End it then.
      setTimeout(() => this.#abandon(ws, "connection failed"), 0);
    };
    ws.onclose = e => ws === this.#ws && this.#onSocketClose(e.code, e.reason, e.wasClean);
  }

  /** Ends a socket that failed or hangs without a close event of its own: a drop (1006). */
  #abandon(ws, reason) {
    if (ws !== this.#ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close();
    } catch {
      // A socket that never connected may refuse to close: it is abandoned either way.
    }
    this.#onSocketClose(1006, reason, false);
  }

  #onSocketOpen(ws) {
    if (ws.protocol !== SUBPROTOCOL) {
      this.#protocolError(`the server did not accept the subprotocol ${SUBPROTOCOL} (got "${ws.protocol}"): it is older than this client; update the server or use a plain WebSocket`);
    }
  }

  #scheduleReconnect() {
    const o = this.#options;
    const delay = reconnectDelay(this.#attempt++, o.minReconnectDelayMs, o.maxReconnectDelayMs);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #onSocketClose(code, reason, wasClean) {
    clearTimeout(this.#deadline);
    this.#ws = null;
    this.#live = false;
    this.#replayLeft = 0;
    if (this.#closed) {
      this.readyState = RoomSocket.CLOSED;
      this.#emit(new RoomCloseEvent(code, reason, wasClean, false));
      return;
    }
    const policy = closePolicy(code);
    if (policy === "final") {
      this.#finish(new Error(`the server closed the connection for good (${code}${reason ? " " + reason : ""}) before the room acknowledged this message`));
      this.readyState = RoomSocket.CLOSED;
      this.#emit(new RoomCloseEvent(code, reason, wasClean, false));
      return;
    }
    this.readyState = RoomSocket.CONNECTING;
    this.#emit(new RoomCloseEvent(code, reason, wasClean, true));
    // No token after a welcome (the server offers no resume): the connection is as lost as after a 4410.
    if (policy === "resync" || (this.#token === null && this.id !== null)) {
      this.#resync(code, reason);
    }
    if (!this.#closed) this.#scheduleReconnect(); // a resync handler may have called close()
  }

  /** The connection cannot be resumed: forget it, fail the sends whose fate is unknown, tell the app. */
  #resync(code, reason) {
    this.#token = null;
    this.id = null;
    this.#attempt = 0; // the server answered: connecting fresh needs no long wait
    const unacked = this.#unacked.splice(0);
    for (const entry of unacked) {
      entry.reject(new Error(`message ${entry.id} may or may not have reached the room: the connection could not be resumed (${code} ${reason}); re-read the room's state before sending it again`));
    }
    this.#emit(new RoomEvent("resync", { code, reason }));
  }

  /** The end: nothing more will be sent; every held send rejects with `error`. */
  #finish(error) {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = null;
    for (const entry of [...this.#unacked.splice(0), ...this.#waiting.splice(0)]) entry.reject(error);
  }

  #protocolError(message) {
    const error = new Error(message);
    this.#emit(new RoomEvent("error", { error }));
    this.#finish(error);
    this.readyState = RoomSocket.CLOSING;
    this.#ws?.close(4002, "protocol error"); // its close event ends it (final: #closed is set)
  }

  // --- frames

  #onFrame(data) {
    if (this.#closed) return; // closed for good: what still arrives has nowhere to go
    let frame;
    try {
      frame = parseFrame(data);
    } catch {
      // Unreadable data is a server bug, not a reason to guess: end the connection and say why.
      this.#protocolError("the server sent a frame that is neither text nor binary data");
      return;
    }
    const { kind, fields, body } = frame;
    switch (kind) {
      case "m":
        return this.#onMessage(fields, body);
      case "ack":
        return this.#onAck(fields);
      case "welcome":
        return this.#onWelcome(fields, body);
      case "resumed":
        return this.#onResumed(fields, body);
      default:
        return; // spec: clients ignore frames of a kind they do not know (e.g. the auto-response)
    }
  }

  #number(field, what) {
    const n = parseNumber(field);
    if (Number.isNaN(n)) this.#protocolError(`the server sent ${what} with an invalid number "${field}"`);
    return n;
  }

  #json(body, what) {
    try {
      return JSON.parse(typeof body === "string" ? body : decoder.decode(body));
    } catch {
      // A malformed handshake cannot be worked around: end the connection and say why.
      this.#protocolError(`the server sent ${what} with a body that is not JSON`);
      return null;
    }
  }

  #onWelcome(fields, body) {
    const seq = this.#number(fields[0], "welcome");
    const info = this.#json(body, "welcome");
    if (Number.isNaN(seq) || info === null) return;
    this.id = info.connection;
    this.#token = typeof info.token === "string" && info.token !== "" ? info.token : null;
    this.lastSeq = seq;
    this.#nextId = 1; // ids count per connection; this one is new
    this.#goLive();
    this.#opened(false);
  }

  #onResumed(fields, body) {
    const seq = this.#number(fields[0], "resumed");
    const info = this.#json(body, "resumed");
    if (Number.isNaN(seq) || info === null) return;
    const replayed = parseNumber(String(info.replayed ?? 0));
    this.id = info.connection ?? this.id;
    this.#replayEnd = seq;
    this.#replayLeft = Number.isNaN(replayed) ? 0 : replayed;
    this.#goLive();
    if (this.#replayLeft === 0) this.#replayDone();
  }

  /** Writes what was held: first the unacknowledged, with their ids, in order; then the waiting, with new ids. */
  #goLive() {
    clearTimeout(this.#deadline);
    this.#live = true;
    for (const entry of this.#unacked) this.#ws.send(entry.frame);
    for (const entry of this.#waiting.splice(0)) this.#write(entry);
  }

  #write(entry) {
    entry.id = this.#nextId++;
    entry.frame = encodeMessage(entry.id, entry.payload);
    entry.payload = undefined;
    this.#unacked.push(entry);
    this.#ws.send(entry.frame);
  }

  #replayDone() {
    this.lastSeq = this.#replayEnd;
    this.#opened(true);
  }

  #opened(resumed) {
    this.#attempt = 0;
    this.readyState = RoomSocket.OPEN;
    this.#emit(new RoomEvent("open", { id: this.id, resumed, seq: this.lastSeq }));
  }

  #onMessage(fields, body) {
    const seq = this.#number(fields[0], "a message");
    if (Number.isNaN(seq)) return;
    this.lastSeq = seq;
    this.#emit(new RoomMessageEvent(body, seq));
    if (this.#replayLeft > 0 && --this.#replayLeft === 0 && !this.#closed) this.#replayDone();
  }

  #onAck(fields) {
    const id = this.#number(fields[0], "an ack");
    const seq = this.#number(fields[1], "an ack");
    if (Number.isNaN(id) || Number.isNaN(seq)) return;
    this.lastSeq = seq;
    // The room handles a connection's messages in order: an ack of `id` acknowledges every earlier id too.
    let done = 0;
    while (done < this.#unacked.length && this.#unacked[done].id <= id) done++;
    for (const entry of this.#unacked.splice(0, done)) entry.resolve({ id: entry.id, seq });
  }

  #emit(event) {
    const handler = this[`on${event.type}`];
    if (typeof handler === "function") {
      try {
        handler.call(this, event);
      } catch (error) {
        // Report and carry on, as an event listener's exception would: one app handler must not break the socket.
        reportError(error);
      }
    }
    this.dispatchEvent(event);
  }
}

function reportError(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else setTimeout(() => { throw error; });
}
