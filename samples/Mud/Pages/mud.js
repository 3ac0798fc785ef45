// The conference MUD's browser client. One RoomSocket (the gateway's /client/roomactors.js: it resumes after a network
// drop without losing messages) to the room the attendee is in; a `moved` message means: connect to that room next.
// Every text from the server goes into the page through textContent, never as HTML.
import { RoomSocket } from "/client/roomactors.js";

const $ = id => document.getElementById(id);
const ticket = new URLSearchParams(location.search).get("ticket"); // auth on: passed through as is
const FIRST_ROOM = "entrance";
const MAX_LINES = 500; // the log keeps the newest lines only
const MOVE_GRACE_MS = 3000; // after `moved` the room closes the socket (4000); if it does not, the page does

// Closes after which the page does not connect again (spec: refusals are close codes): what happened, in words.
const REFUSALS = {
  4003: r => `You are banned${colon(r.replace(/^banned:?\s*/i, ""))}`,
  4005: r => `The space is closed${colon(r.replace(/^the space is closed:?\s*/i, ""))}`,
  4029: r => r ? capitalize(r) : "That room is full",
  4009: () => "That name is taken: pick another one",
  4400: r => `That name can't be used${colon(r)}`,
  4001: () => "You signed in elsewhere: this page is no longer connected",
  1000: r => `The room ended the connection${colon(r)}`,
};
const colon = text => (text ? `: ${text}` : "");
const capitalize = text => text.charAt(0).toUpperCase() + text.slice(1);

const state = {
  name: "", // the display name typed at sign-in
  socket: null, // the current RoomSocket; events of older ones are ignored
  roomId: null, // the room the current socket goes to
  lastRoom: null, // the last room that answered: where signing in again goes
  arrived: false, // the current connection got its first `room` message
  movingTo: null, // after `moved`: the next room
  moveTimer: null,
  you: null, // `you` of the last `room` message
  occupants: [], // [{ name, pronouns }] of the current room
  rooms: [], // [{ id, name, count, capacity }]
  sent: [], // lines sent, for Up/Down
  recall: 0, // position in `sent` while recalling
  paused: false, // the page was hidden (and left); a return from the back/forward cache enters again
};

// ---------------------------------------------------------------------------------------------------------------
// Connecting

function connect(roomId) {
  clearTimeout(state.moveTimer);
  // After a move the room need not sign the attendee in again: `from` tells it so (it is only a hint).
  const query = state.movingTo === roomId && state.roomId ? { name: state.name, from: state.roomId } : { name: state.name };
  const socket = new RoomSocket({ type: "mud", name: roomId, query, ...(ticket ? { ticket } : {}) });
  Object.assign(state, { socket, roomId, arrived: false, movingTo: null });
  setStatus(`entering ${roomName(roomId)}…`);
  socket.addEventListener("open", e => {
    if (socket !== state.socket) return;
    if (e.detail.resumed) {
      notice("Reconnected: nothing was missed.");
      setStatus(`${state.name} in ${roomName(state.roomId)}`);
    }
  });
  socket.addEventListener("message", e => {
    if (socket !== state.socket || typeof e.data !== "string") return;
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      notice(e.data); // not JSON: show it as it came
      return;
    }
    handle(m);
  });
  socket.addEventListener("resync", () => {
    if (socket !== state.socket) return;
    state.arrived = false; // the room sends `room` again on the fresh connection
    notice("The connection was lost for a while: entering again (some messages may have been missed).");
  });
  socket.addEventListener("close", e => {
    if (socket !== state.socket) return;
    if (e.willReconnect) {
      setStatus(`connection lost (${e.code}); reconnecting… what you send now goes out when it is back`);
      return;
    }
    if (state.movingTo) {
      connect(state.movingTo);
      return;
    }
    state.socket = null;
    refused(e.code, e.reason);
  });
}

/** Leaves at once: a normal close (1000), so the room says goodbye now rather than after a timeout. */
function leave(reason) {
  const socket = state.socket;
  state.socket = null;
  clearTimeout(state.moveTimer);
  socket?.close(1000, reason);
}

function refused(code, reason) {
  const what = REFUSALS[code]?.(reason ?? "") ?? `The connection ended (${code}${colon(reason)})`;
  showAlert(/[.!?]$/.test(what) ? what : what + ".");
  setStatus("not signed in");
  showSignIn(code === 4009 || code === 4400);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages from the room (spec: "Room → client")

function handle(m) {
  switch (m.type) {
    case "room": return onRoom(m);
    case "arrive": return onArrive(m);
    case "leave": return onLeave(m);
    case "say": return message(m, "say", [who(m.name), ": ", m.text]);
    case "me": return message(m, "me", ["* ", who(m.name), " ", m.text]);
    case "dance": return message(m, "dance", ["♪ ", who(m.name), " dances."]);
    case "shout": return message(m, "shout", [who(m.name), ` shouts from ${roomName(m.room)}: `, m.text]);
    case "whisper": return onWhisper(m);
    case "report": return line("report", [stamp(m.time), "⚑ Report from ", who(m.from), ` in ${roomName(m.room)}: `, m.text]);
    case "rooms": return renderRooms(m.rooms);
    case "profile": return onProfile(m);
    case "deleted": return $("log").querySelector(`[data-id="${CSS.escape(String(m.id))}"]`)?.remove();
    case "moved": return onMoved(m);
    case "notice": return notice(m.text);
    case "error": return line("error", [m.message]);
    default: console.debug("mud: unknown message", m);
  }
}

function onRoom(m) {
  const first = !state.arrived;
  Object.assign(state, { arrived: true, lastRoom: m.id, roomId: m.id, you: m.you ?? state.you, occupants: [...(m.occupants ?? [])] });
  state.rooms = m.rooms ?? state.rooms;
  $("roomName").textContent = m.name;
  $("roomDescription").textContent = m.description;
  $("closedNote").hidden = m.open !== false;
  renderExits(m.exits ?? []);
  renderOccupants();
  renderRooms(state.rooms);
  document.title = `${m.name} · The Conference Hall`;
  document.body.classList.toggle("moderator", !!state.you?.moderator);
  setStatus(`${state.you?.name ?? state.name} in ${m.name}${state.you?.moderator ? " (moderator)" : ""}`);
  if (first) {
    line("place", [m.name]);
    for (const h of m.history ?? []) {
      if (h.id && $("log").querySelector(`[data-id="${CSS.escape(String(h.id))}"]`)) continue; // seen on an earlier visit
      handle(h);
      $("log").lastElementChild?.classList.add("history");
    }
    showGame();
  } else {
    // `/look`: the room again, in the log too
    const exits = (m.exits ?? []).map(x => x.name).join(", ") || "none";
    const here = state.occupants.map(o => o.name).join(", ") || "nobody";
    line("look", [m.name, ": ", m.description, ` Exits: ${exits}. Here: ${here}.`]);
  }
}

function onArrive(m) {
  if (!state.occupants.some(o => o.name === m.name)) state.occupants.push({ name: m.name, pronouns: m.pronouns });
  renderOccupants();
  const p = m.pronouns ? ` (${m.pronouns})` : "";
  line("arrive", [who(m.name), p, m.from ? ` arrives from ${roomName(m.from)}.` : " signs in."]);
}

function onLeave(m) {
  state.occupants = state.occupants.filter(o => o.name !== m.name);
  renderOccupants();
  line("leave", [who(m.name), m.to ? ` leaves for ${roomName(m.to)}.` : " signs out."]);
}

function onWhisper(m) {
  const mine = state.you && m.from === state.you.name && m.to !== state.you.name;
  line("whisper", [stamp(m.time), ...(mine ? ["You whisper to ", who(m.to)] : [who(m.from), " whispers to you"]), ": ", m.text]);
}

function onProfile(m) {
  const p = m.pronouns ? ` (${m.pronouns})` : "";
  const where = m.room ? `in ${roomName(m.room)}` : "offline";
  line("profile", [who(m.name), p, " — ", m.description || "no description yet", `. Now ${where}.`]);
}

function onMoved(m) {
  state.movingTo = m.room;
  setStatus(`going to ${roomName(m.room)}…`);
  // The room closes this socket (4000 "moved") right after; the close event connects to the next room.
  const socket = state.socket;
  state.moveTimer = setTimeout(() => socket === state.socket && socket.close(1000, "moved"), MOVE_GRACE_MS);
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing (textContent only)

function el(tag, cls, parts = []) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const p of parts) e.append(p instanceof Node ? p : String(p ?? ""));
  return e;
}

function who(name) {
  return el("b", "who", [name]);
}

function stamp(time) {
  const t = el("time", "", [time ? new Date(time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : ""]);
  if (time) t.dateTime = time;
  return t;
}

function line(cls, parts, id) {
  const log = $("log");
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const div = el("div", `line ${cls}`, parts);
  if (id) div.dataset.id = id;
  log.append(div);
  while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
  if (atEnd) log.scrollTop = log.scrollHeight;
  return div;
}

function message(m, cls, parts) {
  return line(cls, [stamp(m.time), ...parts], m.id);
}

function notice(text) {
  line("notice", [text]);
}

function renderExits(exits) {
  $("exits").replaceChildren(...exits.map(x => el("li", "", [goButton(x.id, x.name, `Go to ${x.name}`)])));
}

function renderOccupants() {
  const me = state.you?.name;
  $("hereCount").textContent = `(${state.occupants.length})`;
  $("occupants").replaceChildren(...state.occupants.map(o => {
    const b = el("button", "link", [o.name]);
    b.type = "button";
    b.title = o.name === me ? "you" : `whisper to ${o.name}`;
    b.addEventListener("click", () => prefill(o.name === me ? "/look " + o.name : `/w ${o.name} `));
    return el("li", o.name === me ? "me" : "", [b, o.pronouns ? el("span", "pronouns", [` ${o.pronouns}`]) : "", o.name === me ? " (you)" : ""]);
  }));
}

function renderRooms(rooms) {
  state.rooms = rooms ?? [];
  $("rooms").replaceChildren(...state.rooms.map(r => {
    const here = r.id === state.roomId;
    const b = goButton(r.id, r.name, `Go to ${r.name}: ${r.count} here`);
    if (here) b.setAttribute("aria-current", "location");
    const count = el("span", "count", [r.capacity ? `${r.count}/${r.capacity}` : `${r.count}`]);
    return el("li", here ? "current" : "", [b, " ", count]);
  }));
}

function goButton(id, name, label) {
  const b = el("button", "link", [name]);
  b.type = "button";
  b.dataset.room = id;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", () => send(`/go ${id}`));
  return b;
}

function roomName(id) {
  return state.rooms.find(r => r.id === id)?.name ?? id;
}

function setStatus(text) {
  $("status").textContent = text;
}

function showAlert(text) {
  $("alert").textContent = text;
  $("alert").hidden = !text;
}

function showSignIn(pickName) {
  $("game").hidden = true;
  $("signin").hidden = false;
  $("name").value = state.name;
  $("name").focus();
  if (pickName) $("name").select();
}

function showGame() {
  $("signin").hidden = true;
  $("game").hidden = false;
  $("line").focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Input

function send(text) {
  const socket = state.socket;
  if (!socket) {
    line("error", ["Not connected: sign in first."]);
    return;
  }
  // A send rejects when its fate is unknown; the close or resync handler already says why the connection ended.
  socket.send(text).catch(err => socket === state.socket && socket.readyState !== RoomSocket.CLOSED &&
    line("error", [`Not sent: ${err.message}`]));
}

function prefill(text) {
  $("line").value = text;
  $("line").focus();
}

$("say").addEventListener("submit", e => {
  e.preventDefault();
  const text = $("line").value;
  if (!text.trim()) return;
  send(text);
  if (state.sent.at(-1) !== text) state.sent.push(text);
  if (state.sent.length > 100) state.sent.shift();
  state.recall = state.sent.length;
  $("line").value = "";
});

$("line").addEventListener("keydown", e => {
  if (e.key === "ArrowUp" && state.recall > 0) {
    $("line").value = state.sent[--state.recall];
  } else if (e.key === "ArrowDown" && state.recall < state.sent.length) {
    $("line").value = state.sent[++state.recall] ?? "";
  } else if (e.key === "Escape") {
    $("line").value = "";
    state.recall = state.sent.length;
  } else {
    return;
  }
  e.preventDefault();
  const end = $("line").value.length;
  $("line").setSelectionRange(end, end);
});

$("signin").addEventListener("submit", e => {
  e.preventDefault();
  state.name = $("name").value.trim();
  if (!state.name) return;
  try {
    localStorage.setItem("mud.name", state.name);
  } catch {
    // Storage off (private mode): the name is just not remembered.
  }
  showAlert("");
  $("log").replaceChildren();
  connect(state.lastRoom ?? FIRST_ROOM);
});

$("leave").addEventListener("click", () => {
  leave("signed out");
  setStatus("not signed in");
  showSignIn(false);
});

// Leaving the page leaves the venue at once; coming back from the back/forward cache enters again.
addEventListener("pagehide", () => {
  if (!state.socket) return;
  state.paused = true;
  leave("page closed");
});
addEventListener("pageshow", e => {
  if (!e.persisted || !state.paused) return;
  state.paused = false;
  connect(state.roomId ?? FIRST_ROOM);
});

try {
  $("name").value = localStorage.getItem("mud.name") ?? "";
} catch {
  // Storage off: start empty.
}
$("ticketNote").hidden = !ticket;
$("name").focus();
