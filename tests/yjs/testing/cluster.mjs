// Test support: the distributed mode as separate processes (redis-server and a silo co-hosting the gateway), each started
// from the build output and stopped by its pid; `restart()` kills every one with SIGKILL and starts it again with the
// same arguments and ports.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, delay } from "../../../clients/js/testing/server.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dll = project => path.join(repo, `src/${project}/bin/Release/net10.0/RoomActors.${project}.dll`);

/** One process: started again with `start()` after `kill()`; its last output is `log()`. */
function processOf(name, command, args, ready) {
  let child = null;
  const log = [];
  const onExit = () => { try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone: nothing to clean */ } };
  return {
    name,
    log: () => log.join(""),
    async start() {
      child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DOTNET_ENVIRONMENT: "Production" } });
      const keep = chunk => { log.push(String(chunk)); if (log.length > 300) log.shift(); };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.once("error", error => log.push(`${name} did not start: ${error.message}\n`));
      process.once("exit", onExit);
      const deadline = Date.now() + 60_000;
      for (let i = 0; i < 1200 && Date.now() < deadline; i++) {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log.join("")}`);
        if (await ready()) return;
        await delay(50);
      }
      throw new Error(`${name} was not ready within 60 s:\n${log.join("")}`);
    },
    async kill() {
      process.off("exit", onExit);
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once("exit", resolve));
        child.kill("SIGKILL");
        await Promise.race([exited, delay(10_000)]);
      }
    },
  };
}

const listening = port => new Promise(resolve => {
  const socket = net.connect(port, "127.0.0.1");
  socket.once("connect", () => { socket.destroy(); resolve(true); });
  socket.once("error", () => resolve(false));
});

const answers = url => fetch(url, { signal: AbortSignal.timeout(1000) }).then(r => r.ok, () => false);

/**
 * redis-server (append-only file, fsync always, in a temporary directory) and a silo on Redis that serves WebSockets
 * (the gateway co-hosted). `gateway` is its host:port. Throws with a clear message when redis-server or the build output is missing.
 */
export async function startCluster() {
  for (const project of ["Silo"]) {
    if (!existsSync(dll(project))) throw new Error(`${path.relative(repo, dll(project))} is missing: build first (dotnet build RoomActors.sln -c Release)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "roomactors-yjs-redis-"));
  const [redisPort, siloPort, clientPort, siloHttp] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const id = `yjs-${process.pid}-${redisPort}`;
  const common = ["--redis", `127.0.0.1:${redisPort}`, "--cluster-id", id, "--service-id", id, "--Logging:LogLevel:Default=Warning"];
  const redis = processOf("redis-server", "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
    () => listening(redisPort));
  const silo = processOf("silo", "dotnet", [dll("Silo"), ...common, "--silo-port", String(siloPort), "--client-port", String(clientPort),
    "--urls", `http://127.0.0.1:${siloHttp}`], () => answers(`http://127.0.0.1:${siloHttp}/health/ready`));
  const all = [redis, silo];
  const startAll = async () => { for (const p of all) await p.start(); };
  await startAll();
  return {
    gateway: `127.0.0.1:${siloHttp}`,
    log: () => all.map(p => `--- ${p.name}\n${p.log()}`).join("\n"),
    async restart() {
      for (const p of [...all].reverse()) await p.kill();
      await startAll();
    },
    async stop() {
      for (const p of [...all].reverse()) await p.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
