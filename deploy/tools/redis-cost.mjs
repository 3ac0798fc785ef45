#!/usr/bin/env node
// Measures what a durable turn costs a running RoomActors cluster: Redis commands per turn (INFO commandstats, a count,
// so a busy machine does not change it) and, given the processes' pids, the silos' and gateways' CPU time per turn.
// It drives the sample `counter` room (each `inc` changes the room's durable state: one state write per turn), or with
// `--type broadcast` the sample broadcast room (no state: the same path without the write, for comparison).
//
//   deploy/local-cluster --silos 2 --gateways 2 &          # or any cluster whose Redis and gateways you can reach
//   node --experimental-websocket deploy/tools/redis-cost.mjs --redis 127.0.0.1:20000 \
//        --gateway ws://127.0.0.1:21001 --gateway ws://127.0.0.1:21002 [--turns 2000] [--rooms 20] \
//        [--type counter|broadcast] [--pids-file "$XDG_RUNTIME_DIR/roomactors-local-cluster/pids"]
//
// Phases, each measured as a delta of INFO commandstats (and of /proc/PID/stat CPU time):
//   idle        nothing sent for a while: the cluster's own background (membership, gateway heartbeats, reminders)
//   connect     --rooms clients connect, one per counter room (new rooms: activation, state read, connection record)
//   join        a second client joins each of those rooms, through the other gateway (the rooms are active)
//   leave       those second clients close
//   sequential  one client sends `inc` and waits for the broadcast before the next: one turn per message
//   concurrent  every client does the same at once (--rooms turns in flight): turns per second and CPU per turn
//   burst       one client sends --burst `inc` without waiting: the gateway batches them, fewer turns than messages
// The background rate measured while idle is subtracted from every phase. Bounded: every wait has a deadline.
import net from "node:net";
import fs from "node:fs";

const args = parseArgs(process.argv.slice(2));
const redis = args.redis?.[0] ?? "127.0.0.1:6379";
const gateways = args.gateway ?? ["ws://127.0.0.1:8080"];
const turns = Number(args.turns?.[0] ?? 2000);
const rooms = Number(args.rooms?.[0] ?? 20);
const burst = Number(args.burst?.[0] ?? 1000);
const idleSeconds = Number(args["idle-seconds"]?.[0] ?? 10);
const pids = readPids(args["pids-file"]?.[0]);
const type = args.type?.[0] ?? "counter";
const run = `cost-${Date.now().toString(36)}`;

if (typeof WebSocket !== "function") {
  console.error("redis-cost: no global WebSocket; run node 22+, or node 20 with --experimental-websocket");
  process.exit(2);
}

const [redisHost, redisPort] = redis.split(":");
const results = [];

const idle = await measure("idle", async () => sleep(idleSeconds * 1000), 0);
const background = perSecond(idle);

const clients = [];
results.push(await measure("connect", async () => {
  for (let i = 0; i < rooms; i++) {
    clients.push(await open(`${gateways[i % gateways.length]}/rooms/${type}/${run}-${i}`));
  }
  await sleep(1000); // the connection records are written after the connect turn; let them land
}, rooms, "connections"));

const joined = [];
results.push(await measure("join", async () => {
  for (let i = 0; i < rooms; i++) {
    joined.push(await open(`${gateways[(i + 1) % gateways.length]}/rooms/${type}/${run}-${i}`));
  }
  await sleep(1000);
}, rooms, "connections"));

results.push(await measure("leave", async () => {
  for (const c of joined) await c.closed();
  await sleep(1000);
}, rooms, "connections"));

results.push(await measure("sequential", async () => {
  const c = clients[0];
  for (let i = 0; i < turns; i++) {
    await c.inc();
  }
}, turns, "turns"));

results.push(await measure("concurrent", async () => {
  const each = Math.max(1, Math.floor(turns / clients.length));
  await Promise.all(clients.map(async (c) => { for (let i = 0; i < each; i++) await c.inc(); }));
}, Math.max(1, Math.floor(turns / clients.length)) * clients.length, "turns"));

results.push(await measure("burst", async () => {
  const c = clients[clients.length > 1 ? 1 : 0];
  await c.burst(burst);
}, burst, "messages"));

for (const c of clients) c.close();

console.log(`redis-cost: Redis ${redis}, gateways ${gateways.join(" ")}, run ${run}`);
console.log(`background while idle (${idle.seconds.toFixed(1)} s): ${fmtRates(background)} commands/s`);
for (const r of results) {
  console.log(`\n${r.name}: ${r.count} ${r.unit} in ${r.seconds.toFixed(2)} s (${(r.count / r.seconds).toFixed(0)}/s)`);
  const net = subtract(r.commands, background, r.seconds);
  const total = Object.values(net).reduce((a, b) => a + b, 0);
  console.log(`  Redis commands per ${r.unit.replace(/s$/, "")}: ${(total / r.count).toFixed(3)} (${Object.entries(net)
    .filter(([, v]) => Math.abs(v / r.count) >= 0.005).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v / r.count).toFixed(3)}`).join(", ")})`);
  for (const [group, cpu] of Object.entries(r.cpu)) {
    const idleCpu = (idle.cpu[group] ?? 0) / idle.seconds * r.seconds;
    console.log(`  ${group} CPU: ${((cpu - idleCpu) * 1e6 / r.count).toFixed(1)} µs per ${r.unit.replace(/s$/, "")} (${(cpu / r.seconds * 100).toFixed(0)}% of a core during the phase)`);
  }
}
process.exit(0);

async function measure(name, body, count, unit = "") {
  const before = await commandstats();
  const cpuBefore = cpuTimes();
  const started = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await commandstats();
  const cpuAfter = cpuTimes();
  const commands = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0) - (k === "info" ? 1 : 0); // our own INFO
    if (d !== 0) commands[k] = d;
  }
  const cpu = {};
  for (const k of Object.keys(cpuAfter)) cpu[k] = cpuAfter[k] - (cpuBefore[k] ?? 0);
  return { name, count, unit, seconds, commands, cpu };
}

function perSecond(r) {
  return Object.fromEntries(Object.entries(r.commands).map(([k, v]) => [k, v / r.seconds]));
}

function subtract(commands, rates, seconds) {
  const out = { ...commands };
  for (const [k, v] of Object.entries(rates)) out[k] = (out[k] ?? 0) - v * seconds;
  return out;
}

function fmtRates(rates) {
  const e = Object.entries(rates).sort((a, b) => b[1] - a[1]);
  return e.length ? e.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ") : "none";
}

// One counter room's client: `inc` resolves with the value the room broadcast back.
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const waiting = [];
    const timer = setTimeout(() => reject(new Error(`redis-cost: no connection to ${url} within 10 s`)), 10_000);
    ws.onmessage = (e) => {
      const w = waiting.shift();
      if (w) w.resolve(String(e.data));
    };
    ws.onclose = (e) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`redis-cost: ${url} closed (${e.code} ${e.reason})`));
    };
    ws.onerror = () => reject(new Error(`redis-cost: cannot connect to ${url}`));
    ws.onopen = () => {
      clearTimeout(timer);
      const next = () => new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`redis-cost: no answer from ${url} within 10 s`)), 10_000);
        waiting.push({ resolve: (v) => { clearTimeout(t); res(v); }, reject: (err) => { clearTimeout(t); rej(err); } });
      });
      resolve({
        inc() { const p = next(); ws.send("inc"); return p; },
        async burst(n) {
          const all = Array.from({ length: n }, () => next());
          for (let i = 0; i < n; i++) ws.send("inc");
          await Promise.all(all);
        },
        close() { ws.close(1000); },
        closed() {
          return new Promise((res) => {
            const t = setTimeout(res, 5000); // bounded: the figures count what reached Redis meanwhile
            ws.addEventListener("close", () => { clearTimeout(t); res(); });
            ws.close(1000);
          });
        },
      });
    };
  });
}

function commandstats() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(redisPort), redisHost);
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`redis-cost: no INFO answer from ${redis} within 5 s`)); }, 5000);
    socket.on("error", (e) => { clearTimeout(timer); reject(new Error(`redis-cost: cannot reach Redis at ${redis}: ${e.message}`)); });
    socket.on("connect", () => socket.write("*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n"));
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const eol = buffer.indexOf("\r\n");
      if (eol < 0) return;
      const length = Number(buffer.subarray(1, eol).toString());
      if (buffer.length < eol + 2 + length) return;
      clearTimeout(timer);
      socket.end();
      const text = buffer.subarray(eol + 2, eol + 2 + length).toString();
      const stats = {};
      for (const line of text.split("\r\n")) {
        const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
        if (m) stats[m[1]] = Number(m[2]);
      }
      resolve(stats);
    });
  });
}

// The pid file of deploy/local-cluster: "PID NAME" lines; silos and gateways are summed by kind.
function readPids(file) {
  if (!file) return [];
  return fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2)
    .map(([pid, name]) => ({ pid: Number(pid), group: name.replace(/-\d+$/, "") }));
}

function cpuTimes() {
  const out = {};
  const tick = 100; // USER_HZ on Linux
  for (const { pid, group } of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[group] = (out[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) / tick; // utime + stime
    } catch {
      // Policy: a process that is gone is left out of the CPU figures; the Redis counts do not depend on it.
    }
  }
  return out;
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function parseArgs(list) {
  const out = {};
  for (let i = 0; i < list.length; i++) {
    const m = /^--(.+)$/.exec(list[i]);
    if (!m) throw new Error(`redis-cost: unexpected argument ${list[i]}`);
    (out[m[1]] ??= []).push(list[++i]);
  }
  return out;
}
