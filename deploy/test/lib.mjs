// What the deploy/ tests share: the repository's files, read the way the build and the hosts read them.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const deploy = path.join(repo, "deploy");

export const read = (relative) => fs.readFileSync(path.join(repo, relative), "utf8");
export const exists = (relative) => fs.existsSync(path.join(repo, relative));

/** Every YAML document of a file (a manifest may hold several, separated by ---), parse errors thrown. */
export function yamlDocuments(relative) {
  const docs = YAML.parseAllDocuments(read(relative), { merge: true });
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${relative}: ${d.errors.map((e) => e.message).join("; ")}`);
  }
  return docs.map((d) => d.toJS({ maxAliasCount: 100 })).filter((d) => d != null);
}

/** The version of every project in the repository (Directory.Build.props), the images' tag. */
export function repoVersion() {
  const m = /<Version>([^<]+)<\/Version>/.exec(read("Directory.Build.props"));
  if (!m) throw new Error("Directory.Build.props has no <Version>");
  return m[1];
}

// ---- Settings -----------------------------------------------------------------------------------------------------

/**
 * The configuration keys RoomActors reads (case-insensitive, as .NET configuration is): the properties of
 * src/Hosting/RoomActorsOptions.cs and of every other options class in src/ with a `Section` constant, and every key
 * in the README's configuration table.
 */
export function knownSettings() {
  const keys = new Map(); // lower-case key → where it was found
  const add = (key, where) => { if (!keys.has(key.toLowerCase())) keys.set(key.toLowerCase(), where); };
  for (const file of csFiles("src")) {
    const text = read(file);
    const section = /const\s+string\s+Section\s*=\s*"([^"]+)"/.exec(text);
    if (!section) continue;
    for (const m of text.matchAll(/public\s+(?!static|const)[\w<>?,\s\[\]]+?\s+(\w+)\s*\{\s*get;\s*set;\s*\}/g)) {
      add(`${section[1]}:${m[1]}`, file);
    }
  }
  for (const key of readmeSettings()) add(key, "README.md");
  return keys;
}

/** The RoomActors:… keys of the README's configuration table ("`RoomActors:Auth:Issuer`, `Audience`" is two keys). */
export function readmeSettings() {
  const readme = read("README.md");
  const start = readme.indexOf("\n## Configuration");
  if (start < 0) throw new Error("README.md has no '## Configuration' section");
  const end = readme.indexOf("\n## ", start + 1);
  const keys = [];
  for (const line of readme.slice(start, end < 0 ? undefined : end).split("\n")) {
    if (!line.startsWith("|")) continue;
    const first = line.split("|")[1] ?? "";
    let section = null;
    for (const [, token] of first.matchAll(/`([^`]+)`/g)) {
      if (token.startsWith("RoomActors:")) {
        keys.push(token);
        section = token.slice(0, token.lastIndexOf(":"));
      } else if (section && /^\w+$/.test(token)) {
        keys.push(`${section}:${token}`);
      }
    }
  }
  if (keys.length < 10) throw new Error(`README.md's configuration table gave only ${keys.length} keys; has its format changed?`);
  return keys;
}

/** Environment variables that are not RoomActors settings but host settings of ASP.NET Core, and why they may appear. */
export const hostVariables = new Map([
  ["ASPNETCORE_URLS", "ASP.NET Core: where Kestrel listens (the same as --urls)"],
  ["ASPNETCORE_HTTP_PORTS", "ASP.NET Core: the ports Kestrel listens on when no URLs are given (the runtime image sets 8080)"],
]);

/**
 * Settings added by other parts of issue 12 (health, metrics and operator endpoints), used by the manifests before
 * they reach this branch: a test naming one that is not in the sources yet is skipped, saying so, not passed.
 */
export const pendingSettings = new Map([
  ["roomactors:managementurls", "the management port of a pure silo (issue 12, health and metrics)"],
  ["roomactors:operator:key", "the operator endpoints' key (issue 12, operator endpoints)"],
]);

/** The configuration key of an environment variable (RoomActors__Auth__SigningKey → RoomActors:Auth:SigningKey). */
export const envToKey = (name) => name.replaceAll("__", ":");

/**
 * Checks one environment variable name: a RoomActors setting the sources know, or a listed host variable. Returns
 * null when it is fine, "pending: …" for an issue-12 setting not yet in the sources, else an error text.
 */
export function checkVariable(name, known) {
  if (hostVariables.has(name)) return null;
  if (!name.startsWith("RoomActors__")) {
    return `${name} is neither a RoomActors setting (RoomActors__…) nor a listed host variable`;
  }
  const key = envToKey(name).toLowerCase();
  if (known.has(key)) return null;
  if (pendingSettings.has(key)) return `pending: ${envToKey(name)} is not in the sources yet (${pendingSettings.get(key)})`;
  return `${name} (${envToKey(name)}) is not a setting: not a property of an options class in src/ nor in README.md's configuration table`;
}

/** The default of a TimeSpan/int option as written in its class: `Name { get; set; } = TimeSpan.FromSeconds(10)`. */
export function optionDefault(file, property) {
  const text = read(file);
  const m = new RegExp(`\\b${property}\\s*\\{\\s*get;\\s*set;\\s*\\}\\s*=\\s*([^;]+);`).exec(text);
  if (!m) throw new Error(`${file}: no default for ${property}`);
  const value = m[1].trim();
  const seconds = /^TimeSpan\.FromSeconds\((\d+)\)$/.exec(value);
  if (seconds) return Number(seconds[1]);
  const minutes = /^TimeSpan\.FromMinutes\((\d+)\)$/.exec(value);
  if (minutes) return Number(minutes[1]) * 60;
  if (/^\d+$/.test(value)) return Number(value);
  throw new Error(`${file}: the default of ${property} (${value}) is not a number of seconds or an integer`);
}

function csFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(path.join(repo, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "bin" && entry.name !== "obj") out.push(...csFiles(relative));
    } else if (entry.name.endsWith(".cs")) {
      out.push(relative);
    }
  }
  return out;
}

// ---- Projects and Dockerfiles -------------------------------------------------------------------------------------

/** The assembly a project builds: its <AssemblyName>, else the project file's name. */
export function assemblyName(csproj) {
  const m = /<AssemblyName>([^<]+)<\/AssemblyName>/.exec(read(csproj));
  return m ? m[1] : path.basename(csproj, ".csproj");
}

/** The project and every project it references, transitively (repository-relative paths, / separated). */
export function projectClosure(csproj) {
  const seen = new Set();
  const visit = (p) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const m of read(p).matchAll(/<ProjectReference\s+Include="([^"]+)"/g)) {
      visit(path.posix.normalize(path.posix.join(path.posix.dirname(p), m[1].replaceAll("\\", "/"))));
    }
  };
  visit(csproj);
  return [...seen];
}

/** Files outside a project's folder that it builds from (Include="..\..\clients\js\roomactors.js" and the like). */
export function outsideFiles(csproj) {
  const dir = path.posix.dirname(csproj);
  const out = [];
  for (const m of read(csproj).matchAll(/<(?!ProjectReference)\w+\s+Include="([^"]+)"/g)) {
    const target = path.posix.normalize(path.posix.join(dir, m[1].replaceAll("\\", "/")));
    if (!target.startsWith(dir + "/") && !m[1].includes("*")) out.push(target);
  }
  return out;
}

/** A Dockerfile as stages of instructions ({ from, as, instructions: [{ op, args }] }), continuation lines joined. */
export function parseDockerfile(relative) {
  const lines = read(relative).split("\n");
  const logical = [];
  let current = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (!current && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) { current += line.slice(0, -1) + " "; continue; }
    logical.push(current + line);
    current = "";
  }
  const stages = [];
  const preamble = [];
  for (const l of logical) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(l) ?? [null, l, ""];
    const instruction = { op: op.toUpperCase(), args: args.trim() };
    if (instruction.op === "FROM") {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({ from: m[1], as: m[2] ?? null, instructions: [] });
    } else if (stages.length) {
      stages.at(-1).instructions.push(instruction);
    } else {
      preamble.push(instruction);
    }
  }
  return { stages, preamble };
}

/** The sources of a COPY instruction without --from (paths relative to the build context). */
export function copySources(instruction) {
  const words = instruction.args.startsWith("[") ? JSON.parse(instruction.args) : instruction.args.split(/\s+/);
  const plain = words.filter((w) => !w.startsWith("--"));
  return plain.slice(0, -1);
}

/** Whether .dockerignore keeps `relative` (a file or folder) out of the build context. */
export function dockerIgnored(relative, patterns) {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const p = (negate ? raw.slice(1) : raw).replace(/^\/+/, "").replace(/\/+$/, "");
    const re = new RegExp("^" + p.split("/").map((part) => part === "**" ? "(?:.*)" : part
      .replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]")).join("/")
      .replaceAll("(?:.*)/", "(?:.*/)?") + "(?:/.*)?$");
    if (re.test(relative)) ignored = !negate;
  }
  return ignored;
}

export function dockerignorePatterns() {
  return read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

// ---- Metrics ------------------------------------------------------------------------------------------------------

/**
 * The metrics of issue 12 (the table of its shared spec, the README's metrics table once merged): instrument name,
 * kind and the name OpenTelemetry's Prometheus exporter gives it.
 */
export const roomActorsMetrics = [
  ["roomactors.gateway.connections", "UpDownCounter", "roomactors_gateway_connections"],
  ["roomactors.gateway.messages.received", "Counter", "roomactors_gateway_messages_received_total"],
  ["roomactors.gateway.messages.delivered", "Counter", "roomactors_gateway_messages_delivered_total"],
  ["roomactors.gateway.room_call.duration", "Histogram", "roomactors_gateway_room_call_duration_seconds"],
  ["roomactors.gateway.overflow_closes", "Counter", "roomactors_gateway_overflow_closes_total"],
  ["roomactors.gateway.resyncs", "Counter", "roomactors_gateway_resyncs_total"],
  ["roomactors.gateway.auth_refusals", "Counter", "roomactors_gateway_auth_refusals_total"],
  ["roomactors.gateway.limit_refusals", "Counter", "roomactors_gateway_limit_refusals_total"],
  ["roomactors.gateway.rate_closes", "Counter", "roomactors_gateway_rate_closes_total"],
  ["roomactors.gateway.ticket_expiry_closes", "Counter", "roomactors_gateway_ticket_expiry_closes_total"],
  ["roomactors.rooms.active", "ObservableUpDownCounter", "roomactors_rooms_active"],
  ["roomactors.room.hibernations", "Counter", "roomactors_room_hibernations_total"],
  ["roomactors.room.wakes", "Counter", "roomactors_room_wakes_total"],
  ["roomactors.room.turn.duration", "Histogram", "roomactors_room_turn_duration_seconds"],
  ["roomactors.room.storage.write.duration", "Histogram", "roomactors_room_storage_write_duration_seconds"],
  ["roomactors.room.storage.write.failures", "Counter", "roomactors_room_storage_write_failures_total"],
  ["roomactors.room.alarm.runs", "Counter", "roomactors_room_alarm_runs_total"],
  ["roomactors.room.alarm.retries", "Counter", "roomactors_room_alarm_retries_total"],
  ["roomactors.room.idle_collections", "Counter", "roomactors_room_idle_collections_total"],
  ["roomactors.room.busy_refusals", "Counter", "roomactors_room_busy_refusals_total"],
].map(([instrument, kind, prometheus]) => ({ instrument, kind, prometheus }));

/**
 * Metrics of other meters the dashboard uses, each with where it comes from. Every name here was read from the
 * /metrics output of an all-in-one silo with OpenTelemetry's Prometheus exporter (1.20.1-beta.1) and the meters
 * Microsoft.Orleans, Microsoft.AspNetCore.Hosting, Microsoft.AspNetCore.Server.Kestrel and System.Runtime (the runtime
 * instrumentation), except the two marked "from Orleans' source" (they need standalone gateways connected).
 */
export const otherMetrics = new Map([
  ["orleans_grains", "Microsoft.Orleans: orleans-grains (UpDownCounter, by grain_type)"],
  ["orleans_catalog_activations", "Microsoft.Orleans: orleans-catalog-activations"],
  ["orleans_catalog_activation_created_total", "Microsoft.Orleans: orleans-catalog-activation-created (Counter)"],
  ["orleans_app_requests_latency_milliseconds", "Microsoft.Orleans: orleans-app-requests-latency (Histogram, ms)"],
  ["orleans_messaging_processing_dispatcher_processed_total", "Microsoft.Orleans: orleans-messaging-processing-dispatcher-processed"],
  ["orleans_gateway_connected_clients", "Microsoft.Orleans: orleans-gateway-connected-clients (UpDownCounter; from Orleans' source, MessagingInstruments.cs)"],
  ["orleans_client_connected_gateways", "Microsoft.Orleans: orleans-client-connected-gateways (ObservableGauge; from Orleans' source, ClientInstruments.cs)"],
  ["kestrel_active_connections", "Microsoft.AspNetCore.Server.Kestrel: kestrel.active_connections"],
  ["kestrel_upgraded_connections", "Microsoft.AspNetCore.Server.Kestrel: kestrel.upgraded_connections (open WebSockets)"],
  ["http_server_request_duration_seconds", "Microsoft.AspNetCore.Hosting: http.server.request.duration"],
  ["dotnet_process_cpu_time_seconds_total", "System.Runtime: dotnet.process.cpu.time"],
  ["dotnet_process_memory_working_set_bytes", "System.Runtime: dotnet.process.memory.working_set"],
  ["dotnet_gc_collections_total", "System.Runtime: dotnet.gc.collections"],
  ["dotnet_gc_pause_time_seconds_total", "System.Runtime: dotnet.gc.pause.time"],
]);

const promqlWords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"]);

/** The metric names a PromQL expression reads (functions, label names, strings and Grafana variables left out). */
export function promqlMetrics(expr) {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    if (m[2] || promqlWords.has(m[1])) continue;
    names.add(m[1]);
  }
  return [...names];
}
