// The Dockerfiles of the silo and the gateway, read as Docker reads them (no Docker engine runs here): two stages, the
// SDK to build and the ASP.NET Core runtime to run, a non-root user, an entrypoint naming the assembly the project
// builds, every file the build needs copied into the build context and not excluded by .dockerignore.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
  assemblyName, copySources, dockerIgnored, dockerignorePatterns, exists, optionDefault, outsideFiles,
  parseDockerfile, projectClosure, read,
} from "./lib.mjs";

export const images = [
  { dockerfile: "src/Silo/Dockerfile", project: "src/Silo/RoomActors.Silo.csproj" },
  { dockerfile: "src/GatewayHost/Dockerfile", project: "src/GatewayHost/RoomActors.GatewayHost.csproj" },
];

for (const { dockerfile, project } of images) {
  const name = path.basename(path.dirname(dockerfile));
  const { stages, preamble } = parseDockerfile(dockerfile);
  const build = stages[0];
  const final = stages.at(-1);
  const op = (stage, o) => stage.instructions.filter((i) => i.op === o);

  test(`${name} Dockerfile: builds with the .NET 10 SDK and runs on the ASP.NET Core 10 runtime`, () => {
    assert.equal(stages.length, 2, "two stages: build and run");
    assert.match(build.from, /^mcr\.microsoft\.com\/dotnet\/sdk:10\.0$/);
    assert.equal(build.as, "build");
    assert.match(final.from, /^mcr\.microsoft\.com\/dotnet\/aspnet:10\.0$/);
    assert.deepEqual(preamble, []);
  });

  test(`${name} Dockerfile: publishes its project and runs its assembly as a non-root user`, () => {
    const publish = op(build, "RUN").find((r) => /\bdotnet publish\b/.test(r.args));
    assert.ok(publish, "a RUN dotnet publish in the build stage");
    assert.match(publish.args, new RegExp(`dotnet publish ${project.replaceAll(".", "\\.")}\\b`));
    assert.match(publish.args, /-c Release\b/);
    const out = /-o (\S+)/.exec(publish.args)?.[1];
    assert.ok(out, "publish has an output folder (-o)");
    const copyFrom = op(final, "COPY").find((c) => c.args.startsWith("--from=build"));
    assert.ok(copyFrom, "the final stage copies from the build stage");
    assert.equal(copyFrom.args.split(/\s+/)[1].replace(/\/$/, ""), out.replace(/\/$/, ""), "it copies what was published");

    const workdir = op(final, "WORKDIR").at(-1)?.args;
    assert.equal(copyFrom.args.split(/\s+/)[2].replace(/\/$/, "").replace(/^\.$/, workdir), workdir,
      "the published files land in the working directory, where appsettings.json is read");

    const entry = op(final, "ENTRYPOINT");
    assert.equal(entry.length, 1);
    assert.deepEqual(JSON.parse(entry[0].args), ["dotnet", `${assemblyName(project)}.dll`],
      "ENTRYPOINT in exec form (signals reach the process) naming the project's assembly");

    const users = op(final, "USER");
    assert.equal(users.length, 1, "one USER in the final stage");
    const user = users[0].args;
    // $APP_UID is the runtime image's non-root user (app, uid 1654); a number other than 0, or a name other than root.
    assert.ok(user === "$APP_UID" || (/^\d+$/.test(user) && user !== "0") || (!/^\d+$/.test(user) && user !== "root"),
      `USER ${user} must not be root`);
    assert.ok(final.instructions.indexOf(users[0]) > final.instructions.indexOf(copyFrom),
      "USER comes after the files are copied (they stay owned by root, read-only for the app)");
  });

  test(`${name} Dockerfile: no HEALTHCHECK (orchestrators probe /health/live and /health/ready)`, () => {
    for (const s of stages) assert.equal(op(s, "HEALTHCHECK").length, 0);
  });

  test(`${name} Dockerfile: copies every project, build file and linked file the build needs`, () => {
    const copied = op(build, "COPY").filter((c) => !c.args.startsWith("--from")).flatMap(copySources)
      .map((s) => s.replace(/\/$/, ""));
    const covers = (file) => copied.some((c) => file === c || file.startsWith(c + "/"));
    const closure = projectClosure(project);
    assert.ok(closure.length >= 3, `the project closure of ${project} is ${closure.join(", ")}`);
    const needed = ["Directory.Build.props", "Directory.Packages.props"];
    for (const p of closure) {
      needed.push(p, path.posix.dirname(p) + "/Program.cs");
      needed.push(...outsideFiles(p));
      // A Directory.Build.props between the repository root and the project applies to it too.
      for (let d = path.posix.dirname(path.posix.dirname(p)); d !== "." && d !== ""; d = path.posix.dirname(d)) {
        if (exists(`${d}/Directory.Build.props`)) needed.push(`${d}/Directory.Build.props`);
      }
    }
    for (const file of needed.filter((f) => exists(f))) {
      assert.ok(covers(file), `${dockerfile} does not COPY ${file}, which ${project} builds from`);
    }
    // The project files before the restore (a cached layer), the folders after it.
    const restoreAt = build.instructions.findIndex((i) => i.op === "RUN" && /\bdotnet restore\b/.test(i.args));
    assert.ok(restoreAt > 0, "a dotnet restore before the sources are copied");
    const before = build.instructions.slice(0, restoreAt).filter((i) => i.op === "COPY").flatMap(copySources);
    for (const p of closure) assert.ok(before.includes(p), `${p} is copied before the restore`);
  });

  test(`${name} Dockerfile: what it copies exists and .dockerignore lets it through`, () => {
    const patterns = dockerignorePatterns();
    for (const c of op(build, "COPY").filter((i) => !i.args.startsWith("--from")).flatMap(copySources)) {
      const source = c.replace(/\/$/, "");
      assert.ok(exists(source), `${dockerfile}: COPY ${source}: no such file in the repository`);
      assert.ok(!dockerIgnored(source, patterns), `${dockerfile}: COPY ${source} is excluded by .dockerignore`);
    }
  });
}

test("the silo image exposes the default silo, client and management ports", () => {
  const final = parseDockerfile("src/Silo/Dockerfile").stages.at(-1);
  const exposed = final.instructions.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map(Number);
  assert.ok(exposed.includes(optionDefault("src/Hosting/RoomActorsOptions.cs", "SiloPort")), "RoomActors:SiloPort's default");
  assert.ok(exposed.includes(optionDefault("src/Hosting/RoomActorsOptions.cs", "ClientPort")), "RoomActors:ClientPort's default");
  assert.ok(exposed.includes(9090), "the management port the manifests give RoomActors:ManagementUrls");
});

test("the gateway image listens where it says: ASPNETCORE_HTTP_PORTS is the port it exposes", () => {
  const final = parseDockerfile("src/GatewayHost/Dockerfile").stages.at(-1);
  const env = final.instructions.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
  const port = /ASPNETCORE_HTTP_PORTS=(\d+)/.exec(env)?.[1];
  assert.ok(port, "ENV ASPNETCORE_HTTP_PORTS=PORT");
  const exposed = final.instructions.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
  assert.deepEqual(exposed, [port]);
});

test(".dockerignore keeps build output, dependencies and the git folder out of the context", () => {
  const patterns = dockerignorePatterns();
  for (const p of ["src/Silo/bin/Release/net10.0/RoomActors.Silo.dll", "src/Gateway/obj/project.assets.json", ".git/HEAD",
    "deploy/node_modules/yaml/package.json", "tests/RoomActors.Tests/RoomActors.Tests.csproj"]) {
    assert.ok(dockerIgnored(p, patterns), `${p} should be ignored`);
  }
  for (const p of ["src/Silo/Program.cs", "Directory.Build.props", "clients/js/roomactors.js", "samples/Rooms/CounterRoom.cs"]) {
    assert.ok(!dockerIgnored(p, patterns), `${p} should reach the build`);
  }
  assert.match(read(".dockerignore"), /\*\*\/bin\//);
});
