// Test support for the node tests (outside test/ so the runner does not take it for a test file): the real
// all-in-one server started from the build output, a TCP proxy that can drop or blackhole connections, bounded waits.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dll = path.join(repo, "src/Silo/bin/Release/net10.0/RoomActors.Silo.dll");

/** A free TCP port on loopback (listen on 0, read the port, close). */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise(resolve => server.close(resolve));
  return port;
}

/**
 * Starts the built all-in-one server (`dotnet RoomActors.Silo.dll`) on `port` (a free one by default) with fresh silo
 * and client ports and the settings in `args` (e.g. `--RoomActors:Documents:MaxUpdateBytes=1000`), and waits (at most 60 s)
 * until it answers HTTP. `kill()` ends it by pid with SIGKILL.
 */
export async function startServer({ port, args: extra = [] } = {}) {
  if (!existsSync(dll)) {
    throw new Error(`${path.relative(repo, dll)} is missing: build first (dotnet build RoomActors.sln -c Release)`);
  }
  port ??= await freePort();
  const args = [dll, "--urls", `http://127.0.0.1:${port}`, "--silo-port", String(await freePort()),
    "--client-port", String(await freePort()), "--cluster-id", `js-${process.pid}-${port}`,
    "--Logging:LogLevel:Default=Warning", ...extra];
  const child = spawn("dotnet", args, { cwd: path.dirname(dll), env: { ...process.env, DOTNET_ENVIRONMENT: "Production" }, stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const keep = chunk => { log.push(String(chunk)); if (log.length > 500) log.shift(); };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise(resolve => child.once("exit", resolve));
  const killOnExit = () => { try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone: nothing to clean */ } };
  process.once("exit", killOnExit);

  const server = {
    port,
    pid: child.pid,
    host: `127.0.0.1:${port}`,
    log: () => log.join(""),
    async kill() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        let timer;
        await Promise.race([exited, new Promise(resolve => { timer = setTimeout(resolve, 10_000); })]);
        clearTimeout(timer);
      }
    },
  };
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < 600 && Date.now() < deadline; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${server.log()}`);
    try {
      await fetch(`http://${server.host}/`, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      // Not listening yet: poll again (bounded by the deadline).
      await delay(100);
    }
  }
  await server.kill();
  throw new Error(`the server did not answer HTTP within 60 s:\n${server.log()}`);
}

/**
 * A TCP proxy to `target` (host:port) on a free port. `drop()` resets every connection at once (a network drop: no
 * close frame either way); `blackhole("up" | "down")` silently discards what the client sends or receives until the
 * next `drop()`; `refuse(true)` resets new connections at once (the network is down) until `refuse(false)`.
 */
export async function startProxy(target) {
  const [targetHost, targetPort] = target.split(":");
  const pairs = new Set();
  const discard = { up: false, down: false };
  let refusing = false;
  const server = net.createServer(client => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(targetPort), targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    client.on("data", data => discard.up || upstream.write(data));
    upstream.on("data", data => discard.down || client.write(data));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Either side failing or closing ends the pair: the proxy is a wire, not a buffer.
    for (const socket of [client, upstream]) socket.on("error", end).on("close", end);
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${server.address().port}`,
    get connections() { return pairs.size; },
    blackhole(direction) { discard[direction] = true; },
    refuse(on) { refusing = on; },
    drop() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
      discard.up = discard.down = false;
    },
    close() {
      this.drop();
      return new Promise(resolve => server.close(resolve));
    },
  };
}

export const delay = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms until it is true or `ms` passed (then throws `what`). */
export async function until(condition, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (let i = 0; i < ms / 10 + 1 && Date.now() < deadline; i++) {
    if (condition()) return;
    await delay(10);
  }
  if (!condition()) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The next `type` event of `target` (for which `where` is true), or an error after `ms`. */
export function next(target, type, ms = 10_000, where = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, on);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const on = e => {
      if (!where(e)) return;
      clearTimeout(timer);
      target.removeEventListener(type, on);
      resolve(e);
    };
    target.addEventListener(type, on);
  });
}

/** Records every event of a RoomSocket: `events` in order, `messages` as { data, seq }. */
export function record(socket) {
  const log = { events: [], messages: [] };
  for (const type of ["open", "message", "close", "resync", "error"]) {
    socket.addEventListener(type, e => {
      log.events.push(e);
      if (type === "message") log.messages.push({ data: e.data, seq: e.seq });
    });
  }
  return log;
}

/** A unique room name. */
export const roomName = prefix => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
