// The Kubernetes manifests in deploy/k8s, checked without a cluster: every object validates against the Kubernetes
// schemas (kubernetes-models) with no field the API server would not know; probes, ports, selectors, Secret and
// ConfigMap references, settings, images and the termination numbers agree with each other and with the sources.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  assemblyName, checkVariable, deploy, envToKey, knownSettings, optionDefault, parseDockerfile, repoVersion,
  yamlDocuments,
} from "./lib.mjs";

const k8sDir = path.join(deploy, "k8s");
const files = fs.readdirSync(k8sDir).filter((f) => f.endsWith(".yaml")).sort();
const all = files.flatMap((f) => yamlDocuments(`deploy/k8s/${f}`).map((object) => ({ file: f, object })));
const objects = all.filter((o) => o.object.kind !== "Kustomization");
const of = (kind) => objects.filter((o) => o.object.kind === kind).map((o) => o.object);
const deployments = of("Deployment");
const known = knownSettings();
const version = repoVersion();

const images = {
  silo: { deployment: "roomactors-silo", dockerfile: "src/Silo/Dockerfile", project: "src/Silo/RoomActors.Silo.csproj", image: "roomactors/silo" },
  gateway: { deployment: "roomactors-gateway", dockerfile: "src/GatewayHost/Dockerfile", project: "src/GatewayHost/RoomActors.GatewayHost.csproj", image: "roomactors/gateway" },
};

/** The kubernetes-models class of an object, by apiVersion and kind. */
async function modelOf({ apiVersion, kind }) {
  const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
  return module[kind];
}

/**
 * Validates `object` with the class's schema and returns the fields the schema does not know. The compiled validator
 * reads every property its schema names; a key it never read is unknown to Kubernetes (kubectl's strict field
 * validation refuses it). Objects whose keys the validator enumerated are maps (labels, data) and take any key.
 */
function validateStrictly(Model, object) {
  const read = new Map(); // path → Set of keys read, or "map"
  const wrap = (value, at) => {
    if (value === null || typeof value !== "object") return value;
    const keys = new Set();
    read.set(at, keys);
    return new Proxy(value, {
      get(target, key) {
        if (typeof key === "string") keys.add(key);
        return wrap(target[key], `${at}/${String(key)}`);
      },
      has(target, key) {
        if (typeof key === "string") keys.add(key);
        return key in target;
      },
      ownKeys(target) {
        read.set(at, "map");
        return Reflect.ownKeys(target);
      },
    });
  };
  Model.prototype.validate.call(wrap(object, ""));
  const unknown = [];
  const walk = (value, at) => {
    if (value === null || typeof value !== "object") return;
    const keys = read.get(at);
    for (const key of Object.keys(value)) {
      if (!Array.isArray(value) && keys !== "map" && !(keys?.has(key))) unknown.push(`${at}/${key}`); // not its fields
      else walk(value[key], `${at}/${key}`);
    }
  };
  walk(object, "");
  return unknown.filter((p) => !/^\/(apiVersion|kind)$/.test(p));
}

test("k8s: every manifest parses and every object validates against the Kubernetes schemas", async () => {
  assert.ok(files.length >= 5, files.join(", "));
  assert.ok(objects.length >= 9, `${objects.length} objects`);
  for (const { file, object } of objects) {
    assert.ok(object.apiVersion && object.kind && object.metadata?.name, `${file}: apiVersion, kind and metadata.name`);
    const Model = await modelOf(object);
    assert.doesNotThrow(() => new Model(object).validate(), `${file}: ${object.kind}/${object.metadata.name}`);
    assert.deepEqual(validateStrictly(Model, object), [], `${file}: ${object.kind}/${object.metadata.name}: fields Kubernetes does not know`);
  }
});

test("k8s: the strict check finds a misspelt field and a wrong type (it can fail)", async () => {
  const Model = await modelOf({ apiVersion: "apps/v1", kind: "Deployment" });
  const copy = structuredClone(deployments[0]);
  copy.spec.template.spec.containers[0].readinesProbe = copy.spec.template.spec.containers[0].readinessProbe;
  assert.deepEqual(validateStrictly(Model, copy), ["/spec/template/spec/containers/0/readinesProbe"]);
  copy.spec.template.spec.containers[0].ports[0].containerPort = "8080";
  assert.throws(() => new Model(copy).validate(), /containerPort must be integer/);
});

test("k8s: kustomization lists every manifest but the example Secret, and sets the images' tag", () => {
  const kustomization = all.find((o) => o.object.kind === "Kustomization").object;
  const expected = files.filter((f) => f !== "kustomization.yaml" && f !== "secret.example.yaml");
  assert.deepEqual([...kustomization.resources].sort(), expected);
  for (const { image } of Object.values(images)) {
    assert.deepEqual(kustomization.images.find((i) => i.name === image), { name: image, newTag: version });
  }
  for (const { object } of objects) {
    assert.equal(object.metadata.namespace ?? kustomization.namespace, kustomization.namespace, `${object.kind}/${object.metadata.name}`);
  }
});

test("k8s: Services and PodDisruptionBudgets select the pods of a Deployment", () => {
  const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
  for (const d of deployments) {
    assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name}: selector matches its pods`);
    const pdbs = of("PodDisruptionBudget").filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
    assert.equal(pdbs.length, 1, `${d.metadata.name}: one PodDisruptionBudget`);
    assert.ok(pdbs[0].spec.maxUnavailable === 1 || pdbs[0].spec.minAvailable >= 1, `${d.metadata.name}: the PDB keeps pods up`);
    assert.ok(d.spec.replicas >= 2, `${d.metadata.name}: at least 2 replicas, or the PDB blocks every drain`);
    assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0, `${d.metadata.name}: a new pod is ready before an old one stops`);
  }
  for (const s of of("Service")) {
    const targets = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
    assert.equal(targets.length, 1, `Service ${s.metadata.name} selects one Deployment's pods`);
    const container = targets[0].spec.template.spec.containers[0];
    for (const p of s.spec.ports) {
      assert.ok(container.ports.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort),
        `Service ${s.metadata.name}: targetPort ${p.targetPort} is a port the container declares`);
    }
  }
});

const container = (name) => deployments.find((d) => d.metadata.name === name).spec.template.spec.containers[0];
const portNumber = (c, port) => typeof port === "number" ? port : c.ports.find((p) => p.name === port)?.containerPort;

test("k8s: probes ask /health/live and /health/ready on a port the container declares", () => {
  for (const d of deployments) {
    const c = d.spec.template.spec.containers[0];
    const probes = { livenessProbe: "/health/live", startupProbe: "/health/live", readinessProbe: "/health/ready" };
    for (const [probe, pathExpected] of Object.entries(probes)) {
      const get = c[probe]?.httpGet;
      assert.ok(get, `${d.metadata.name}: ${probe} is an HTTP GET`);
      assert.equal(get.path, pathExpected, `${d.metadata.name}: ${probe}`);
      assert.ok(portNumber(c, get.port), `${d.metadata.name}: ${probe} port ${get.port} is declared by the container`);
    }
  }
});

test("k8s: a silo is a pure silo whose probes hit its management port, advertising its pod IP", () => {
  const c = container(images.silo.deployment);
  const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
  const management = Number(new URL(env.RoomActors__ManagementUrls.value).port);
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    assert.equal(portNumber(c, c[probe].httpGet.port), management, `${probe} on RoomActors:ManagementUrls' port`);
  }
  assert.deepEqual(env.RoomActors__AdvertisedIp.valueFrom, { fieldRef: { fieldPath: "status.podIP" } });
  assert.equal(env.ASPNETCORE_URLS, undefined, "no --urls: it would co-host a gateway");
  assert.equal(portNumber(c, "silo"), Number(env.RoomActors__SiloPort.value));
  assert.equal(portNumber(c, "client"), Number(env.RoomActors__ClientPort.value));
  const headless = of("Service").find((s) => s.metadata.name === images.silo.deployment);
  assert.equal(headless.spec.clusterIP, "None", "silos need no load-balanced Service: a headless one");
});

test("k8s: images and commands are the Dockerfiles'; container ports are ports the image exposes", () => {
  for (const { deployment, dockerfile, project, image } of Object.values(images)) {
    const c = container(deployment);
    assert.equal(c.image, `${image}:${version}`, deployment);
    const final = parseDockerfile(dockerfile).stages.at(-1).instructions;
    const entrypoint = JSON.parse(final.find((i) => i.op === "ENTRYPOINT").args);
    assert.deepEqual(entrypoint, ["dotnet", `${assemblyName(project)}.dll`]);
    assert.ok(c.command === undefined || JSON.stringify(c.command) === JSON.stringify(entrypoint), `${deployment}: command is the image's ENTRYPOINT`);
    const exposed = final.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map(Number);
    for (const p of c.ports) assert.ok(exposed.includes(p.containerPort), `${deployment}: port ${p.containerPort} is exposed by ${dockerfile}`);
  }
});

test("k8s: every Secret and ConfigMap reference exists in the example Secret and the ConfigMap", () => {
  const secrets = of("Secret");
  const configMaps = of("ConfigMap");
  let references = 0;
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        references++;
        const secret = secrets.find((s) => s.metadata.name === ref.name);
        assert.ok(secret, `${d.metadata.name}: Secret ${ref.name} is in secret.example.yaml`);
        assert.ok(ref.key in (secret.stringData ?? secret.data ?? {}), `${d.metadata.name}: key ${ref.key} of Secret ${ref.name}`);
      }
      for (const from of c.envFrom ?? []) {
        assert.ok(configMaps.some((m) => m.metadata.name === from.configMapRef?.name), `${d.metadata.name}: ConfigMap ${from.configMapRef?.name}`);
      }
    }
  }
  assert.ok(references >= 5, `${references} secret references`);
  const secretKeys = (n) => deployments.find((d) => d.metadata.name === n).spec.template.spec.containers[0].env
    .filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom.secretKeyRef.key]);
  assert.deepEqual(Object.fromEntries(secretKeys(images.gateway.deployment)), {
    RoomActors__Redis: "redis", RoomActors__Auth__SigningKey: "signing-key", RoomActors__Operator__Key: "operator-key",
  }, "the gateway reads Redis' address, the ticket signing key and the operator key from the Secret");
  const example = secrets.find((s) => s.metadata.name === "roomactors").stringData;
  for (const key of ["signing-key", "operator-key"]) {
    assert.ok(Buffer.byteLength(example[key]) < 32, `the example's ${key} is a placeholder that fails validation (under 32 bytes), never a usable key`);
  }
});

test("k8s: every environment variable and ConfigMap key is a real setting", (t) => {
  const names = [];
  for (const d of deployments) for (const e of d.spec.template.spec.containers[0].env ?? []) names.push([d.metadata.name, e.name]);
  for (const m of of("ConfigMap")) for (const k of Object.keys(m.data)) names.push([`ConfigMap ${m.metadata.name}`, k]);
  assert.ok(names.length >= 10);
  for (const [where, name] of names) {
    const problem = checkVariable(name, known);
    if (problem?.startsWith("pending:")) {
      t.diagnostic(`${where} ${name}: ${problem}`);
      continue;
    }
    assert.equal(problem, null, `${where}: ${problem}`);
  }
  assert.ok(known.has(envToKey("RoomActors__ClusterId").toLowerCase()));
});

test("k8s: termination grace covers the preStop pause and the shutdown the processes allow themselves", () => {
  const hostShutdown = 30; // HostOptions.ShutdownTimeout's default: the host's own bound on stopping
  const gatewayShutdown = optionDefault("src/Gateway/GatewayOptions.cs", "ShutdownTimeout");
  const closeTimeout = optionDefault("src/Gateway/GatewayOptions.cs", "CloseTimeout");
  const gateway = deployments.find((d) => d.metadata.name === images.gateway.deployment).spec.template.spec;
  const [sleep, seconds] = gateway.containers[0].lifecycle.preStop.exec.command;
  assert.equal(sleep, "sleep");
  assert.ok(Number(seconds) >= 3, "preStop gives the endpoints controller and the load balancers a few seconds");
  assert.ok(gateway.terminationGracePeriodSeconds >= Number(seconds) + Math.max(hostShutdown, gatewayShutdown + closeTimeout),
    `gateway: ${gateway.terminationGracePeriodSeconds} s ≥ preStop ${seconds} s + shutdown`);
  const silo = deployments.find((d) => d.metadata.name === images.silo.deployment).spec.template.spec;
  assert.ok(silo.terminationGracePeriodSeconds > hostShutdown, `silo: ${silo.terminationGracePeriodSeconds} s`);
});

test("k8s: pods run as non-root on a read-only root file system, with resources set", () => {
  for (const d of deployments) {
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, d.metadata.name);
    assert.ok(pod.securityContext.runAsUser > 0, `${d.metadata.name}: runAsUser`);
    for (const c of pod.containers) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, d.metadata.name);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, d.metadata.name);
      assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], d.metadata.name);
      const tmp = c.volumeMounts.find((m) => m.mountPath === "/tmp");
      assert.ok(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir, `${d.metadata.name}: a writable /tmp (emptyDir)`);
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${d.metadata.name}: resources`);
    }
  }
});
