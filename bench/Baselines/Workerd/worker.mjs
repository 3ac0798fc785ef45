// The `broadcast` room as a Cloudflare Durable Object, for bench/run's `workerd` baseline: every frame, text or
// binary and unchanged, goes to every WebSocket of the room, the sender included (the semantics of
// bench/Baselines/RawKestrel). It uses the hibernatable WebSocket API, as a Durable Object chat room is meant to be
// written: the runtime holds the sockets, so an idle room can be evicted from memory and woken by the next message.
import { DurableObject } from "cloudflare:workers";

export class BroadcastRoom extends DurableObject {
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    // A string is a text frame, an ArrayBuffer a binary one; send() keeps the kind.
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
      } catch {
        // That socket is closing; the runtime drops it from the room.
      }
    }
  }

  webSocketClose(ws, code, reason) {
    // Answer the client's close (1005 and 1006 say "no code" and cannot be sent back).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  webSocketError(ws, error) {
    try {
      ws.close(1011, "error");
    } catch {
      // Already closed.
    }
  }
}

export default {
  async fetch(request, env) {
    const match = /^\/rooms\/broadcast\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match) {
      return new Response("not found", { status: 404 });
    }
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("upgrade required", { status: 426 });
    }
    const rooms = env.ROOMS;
    return rooms.get(rooms.idFromName(decodeURIComponent(match[1]))).fetch(request);
  },
};
