// deploy/docker-compose.yml and the nginx configuration in front of the gateways, checked without a Docker engine:
// the services, their Dockerfiles and images, their settings against the settings RoomActors has, their healthchecks
// (run here with bash against a local HTTP server), the silos' addresses and the load balancer's WebSocket upgrade.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { execFile } from "node:child_process";
import path from "node:path";
import {
  checkVariable, exists, knownSettings, optionDefault, parseDockerfile, read, repo, repoVersion, yamlDocuments,
} from "./lib.mjs";

const [compose] = yamlDocuments("deploy/docker-compose.yml");
const services = compose.services;
const known = knownSettings();
const byDockerfile = (dockerfile) => Object.entries(services).filter(([, s]) => s.build?.dockerfile === dockerfile);
const silos = byDockerfile("src/Silo/Dockerfile");
const gateways = byDockerfile("src/GatewayHost/Dockerfile");

test("compose: Redis, 2 silos, 2 gateways and a load balancer", () => {
  assert.equal(silos.length, 2);
  assert.equal(gateways.length, 2);
  assert.ok(services.redis, "a redis service");
  assert.match(services.redis.image, /^redis:/);
  assert.ok(services.redis.command.includes("--appendonly") && services.redis.command.includes("yes"),
    "Redis with persistence (a restart without it loses the membership table and the rooms' state)");
  assert.ok(services.lb?.ports?.length, "a load balancer with a published port");
});

test("compose: services build from Dockerfiles that exist, tagged with the repository's version", () => {
  const version = repoVersion();
  for (const [name, s] of [...silos, ...gateways]) {
    const context = path.relative(repo, path.resolve(repo, "deploy", s.build.context));
    assert.equal(context, "", `${name}: the build context is the repository root (the Dockerfiles copy from it)`);
    assert.ok(exists(s.build.dockerfile), `${name}: ${s.build.dockerfile} exists`);
    assert.match(s.image, new RegExp(`^roomactors/(silo|gateway):${version.replaceAll(".", "\\.")}$`), `${name}: image`);
  }
  assert.ok(silos.every(([, s]) => s.image === silos[0][1].image) && gateways.every(([, s]) => s.image === gateways[0][1].image));
  assert.notEqual(silos[0][1].image, gateways[0][1].image);
});

test("compose: every environment variable is a real setting", (t) => {
  const checked = new Set();
  for (const [name, s] of Object.entries(services)) {
    if (!s.build) continue;
    for (const variable of Object.keys(s.environment ?? {})) checked.add(`${name} ${variable}`);
  }
  for (const line of read("deploy/roomactors.env.example").split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (m) checked.add(`roomactors.env.example ${m[1]}`);
  }
  assert.ok(checked.size >= 10, `only ${checked.size} variables found`);
  for (const entry of checked) {
    const variable = entry.split(" ")[1];
    const problem = checkVariable(variable, known);
    if (problem?.startsWith("pending:")) {
      t.diagnostic(`${entry}: ${problem}`);
      continue;
    }
    assert.equal(problem, null, `${entry}: ${problem}`);
  }
});

for (const setting of ["RoomActors__ManagementUrls", "RoomActors__Operator__Key"]) {
  test(`compose and k8s use ${setting}, a setting of issue 12`, (t) => {
    const problem = checkVariable(setting, known);
    if (problem?.startsWith("pending:")) {
      t.skip(problem);
      return;
    }
    assert.equal(problem, null, problem);
  });
}

test("compose: silos advertise their own fixed address on the cluster network", () => {
  const subnet = compose.networks.cluster.ipam.config[0].subnet;
  const [base, bits] = subnet.split("/");
  assert.equal(bits, "24");
  const prefix = base.split(".").slice(0, 3).join(".") + ".";
  const addresses = new Set();
  for (const [name, s] of silos) {
    const ip = s.networks.cluster.ipv4_address;
    assert.ok(ip.startsWith(prefix), `${name}: ${ip} in ${subnet}`);
    assert.equal(s.environment.RoomActors__AdvertisedIp, ip, `${name} advertises the address it has`);
    addresses.add(ip);
  }
  assert.equal(addresses.size, silos.length, "one address per silo");
});

test("compose: every process finds Redis at the redis service, and starts after what it needs is healthy", () => {
  for (const [name, s] of [...silos, ...gateways]) assert.equal(s.environment.RoomActors__Redis, "redis:6379", name);
  for (const [name, s] of silos) assert.equal(s.depends_on.redis.condition, "service_healthy", `${name} waits for Redis`);
  for (const [name, s] of gateways) {
    for (const [silo] of silos) assert.equal(s.depends_on[silo].condition, "service_healthy", `${name} waits for ${silo}`);
  }
  for (const [name] of gateways) assert.equal(services.lb.depends_on[name].condition, "service_healthy", `the load balancer waits for ${name}`);
});

test("compose: silos are pure silos with a management port; gateways listen where the image says", () => {
  for (const [name, s] of silos) {
    assert.equal(s.environment.ASPNETCORE_URLS, undefined, `${name}: no --urls (it would co-host a gateway)`);
    assert.match(s.environment.RoomActors__ManagementUrls, /^http:\/\/0\.0\.0\.0:9090$/, `${name}: management port 9090`);
  }
});

test("compose: grace periods cover the shutdown the processes allow themselves", () => {
  const seconds = (v) => Number(/^(\d+)s$/.exec(v)?.[1]);
  const hostShutdown = 30; // HostOptions.ShutdownTimeout's default: the host's own bound on stopping
  for (const [name, s] of silos) assert.ok(seconds(s.stop_grace_period) > hostShutdown, `${name}: ${s.stop_grace_period}`);
  const gatewayShutdown = optionDefault("src/Gateway/GatewayOptions.cs", "ShutdownTimeout");
  for (const [name, s] of gateways) {
    assert.ok(seconds(s.stop_grace_period) > Math.max(hostShutdown, gatewayShutdown), `${name}: ${s.stop_grace_period}`);
  }
});

/** The port and path a healthcheck asks, and whether it runs in bash. */
function healthcheck(s) {
  const [kind, shell, flag, script] = s.healthcheck.test;
  assert.deepEqual([kind, shell, flag], ["CMD", "bash", "-c"]);
  const port = Number(/\/dev\/tcp\/127\.0\.0\.1\/(\d+)/.exec(script)?.[1]);
  const target = /GET (\S+) HTTP\/1\.1/.exec(script)?.[1];
  return { script, port, target };
}

test("compose: healthchecks ask /health/ready on the port each process serves", () => {
  for (const [name, s] of silos) {
    const { port, target } = healthcheck(s);
    assert.equal(target, "/health/ready", name);
    assert.equal(port, Number(new URL(s.environment.RoomActors__ManagementUrls).port), `${name}: the management port`);
  }
  const env = parseDockerfile("src/GatewayHost/Dockerfile").stages.at(-1).instructions.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
  const gatewayPort = Number(/ASPNETCORE_HTTP_PORTS=(\d+)/.exec(env)[1]);
  for (const [name, s] of gateways) {
    const { port, target } = healthcheck(s);
    assert.equal(target, "/health/ready", name);
    assert.equal(port, gatewayPort, `${name}: the port the gateway image listens on`);
  }
  assert.match(services.lb.healthcheck.test.join(" "), /\/health\/ready/);
});

test("compose: the healthcheck command passes on 200 and fails on 503 (run with bash against a local server)", async () => {
  let status = 200;
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: status === 200 ? "Healthy" : "Unhealthy" }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  try {
    const { script } = healthcheck(silos[0][1]);
    const run = () => new Promise((resolve) => {
      execFile("bash", ["-c", script.replace(/\/dev\/tcp\/127\.0\.0\.1\/\d+/, `/dev/tcp/127.0.0.1/${port}`)],
        { timeout: 5000 }, (error) => resolve(error ? error.code ?? 1 : 0));
    });
    assert.equal(await run(), 0, "healthy on 200");
    status = 503;
    assert.notEqual(await run(), 0, "unhealthy on 503");
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.notEqual(await run(), 0, "unhealthy when nothing listens");
    assert.deepEqual(seen, ["/health/ready", "/health/ready"]);
  } finally {
    server.close();
  }
});

test("nginx: upgrades WebSockets to the gateways, no idle timeout shorter than the gateways' keep-alive", () => {
  const mount = services.lb.volumes.find((v) => v.endsWith(":/etc/nginx/nginx.conf:ro"));
  assert.ok(mount, "the load balancer mounts deploy/nginx.conf");
  const conf = read(path.posix.join("deploy", mount.split(":")[0]));
  const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(conf);
  assert.ok(upstream, "an upstream block");
  const servers = [...upstream[2].matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(servers.sort(), gateways.map(([name]) => `${name}:8080`).sort(), "every gateway, on its port, and nothing else");
  assert.match(conf, new RegExp(`proxy_pass\\s+http://${upstream[1]};`));
  assert.match(conf, /proxy_http_version\s+1\.1;/);
  assert.match(conf, /proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
  assert.match(conf, /proxy_set_header\s+Connection\s+\$connection_upgrade;/);
  assert.match(conf, /map\s+\$http_upgrade\s+\$connection_upgrade\s*\{[^}]*default\s+upgrade;/);
  const toSeconds = (v) => ({ s: 1, m: 60, h: 3600 })[v.at(-1)] * Number(v.slice(0, -1));
  const keepAlive = optionDefault("src/Gateway/GatewayOptions.cs", "KeepAliveInterval");
  for (const directive of ["proxy_read_timeout", "proxy_send_timeout"]) {
    const value = new RegExp(`${directive}\\s+(\\d+[smh]);`).exec(conf)?.[1];
    assert.ok(value, `${directive} is set (nginx's default, 60 s, would cut quiet sockets)`);
    assert.ok(toSeconds(value) > 2 * keepAlive, `${directive} ${value} outlasts two keep-alive pings (${keepAlive} s)`);
  }
  const listen = Number(/listen\s+(\d+);/.exec(conf)[1]);
  assert.ok(services.lb.ports.some((p) => String(p).endsWith(`:${listen}`)), "the published port is the one nginx listens on");
});
