// deploy/grafana/roomactors.json: a dashboard Grafana imports (schema 39 or later, a Prometheus data source variable)
// whose queries read only metrics that exist: the RoomActors metrics of issue 12 by their Prometheus names, or the
// Orleans, ASP.NET Core and .NET runtime metrics listed in lib.mjs with where each comes from.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { otherMetrics, promqlMetrics, read, repo, roomActorsMetrics } from "./lib.mjs";

const dashboard = JSON.parse(read("deploy/grafana/roomactors.json"));
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** The Prometheus series names of a metric: a histogram's _bucket, _sum and _count. */
const series = (m) => m.kind === "Histogram" ? ["_bucket", "_sum", "_count"].map((s) => m.prometheus + s) : [m.prometheus];
const roomActorsSeries = new Map(roomActorsMetrics.flatMap((m) => series(m).map((s) => [s, m])));
const otherSeries = new Set([...otherMetrics.keys()].flatMap((n) => /_(seconds|milliseconds)$/.test(n) ? ["_bucket", "_sum", "_count"].map((s) => n + s) : [n]));

test("grafana: the dashboard parses, schema 39 or later, a Prometheus data source variable used by every panel", () => {
  assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(dashboard.uid, "roomactors");
  const variable = dashboard.templating.list.find((v) => v.type === "datasource");
  assert.ok(variable, "a data source variable");
  assert.equal(variable.query, "prometheus");
  for (const p of panels) {
    assert.equal(p.datasource?.uid, `\${${variable.name}}`, `${p.title}: the panel's data source is the variable`);
    for (const t of p.targets) assert.equal(t.datasource?.uid, `\${${variable.name}}`, `${p.title}: each query's too`);
  }
  const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  for (const p of panels) {
    assert.ok(p.title && p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0, `${p.title}: title and position`);
    assert.ok(p.targets.length > 0, `${p.title}: at least one query`);
  }
});

test("grafana: every metric a query reads is a RoomActors metric of issue 12 or a listed Orleans/ASP.NET/runtime one", () => {
  assert.ok(queries.length >= 20);
  for (const { panel, expr } of queries) {
    const names = promqlMetrics(expr);
    assert.ok(names.length > 0, `${panel}: ${expr} reads no metric`);
    for (const name of names) {
      assert.ok(roomActorsSeries.has(name) || otherSeries.has(name), `${panel}: ${name} is neither in the metrics table nor listed in lib.mjs`);
    }
  }
});

test("grafana: every RoomActors metric has a panel, and every listed other metric is used", () => {
  const names = queries.flatMap((q) => promqlMetrics(q.expr));
  const used = new Set(names.filter((n) => roomActorsSeries.has(n)).map((n) => roomActorsSeries.get(n).prometheus));
  assert.deepEqual(roomActorsMetrics.map((m) => m.prometheus).filter((n) => !used.has(n)), []);
  const stale = [...otherMetrics.keys()].filter((n) => !names.some((u) => u === n || u.startsWith(n + "_")));
  assert.deepEqual(stale, [], "listed in lib.mjs but read by no query");
});

test("grafana: counters are read as rates, histograms as quantiles of rates, gauges as they are", () => {
  for (const { panel, expr } of queries) {
    for (const name of promqlMetrics(expr)) {
      const m = roomActorsSeries.get(name);
      const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      if (name.endsWith("_bucket")) {
        assert.match(expr, new RegExp(`histogram_quantile\\(0\\.\\d+, sum by \\(le[^)]*\\) \\(rate\\(${quoted}\\{`), `${panel}: ${name}`);
      } else if (name.endsWith("_total") || name.endsWith("_count")) {
        // The hibernated-rooms estimate reads the two counters' totals on purpose (hibernations − wakes).
        const estimate = /hibernations_total\{[^}]*\}\) - sum by \(\w+\) \(roomactors_room_wakes_total/.test(expr);
        assert.ok(estimate || new RegExp(`(rate|increase)\\(${quoted}\\{`).test(expr), `${panel}: ${name} is a counter, read with rate()`);
      } else if (m) {
        assert.doesNotMatch(expr, new RegExp(`rate\\(${quoted}\\b`), `${panel}: ${name} is a gauge`);
      }
    }
  }
});

test("grafana: the RoomActors instruments the dashboard reads are the ones the sources create", (t) => {
  const sources = csText(path.join(repo, "src"));
  if (!sources.includes("RoomActorsDiagnostics")) {
    t.skip("src/ has no RoomActorsDiagnostics yet (the metrics part of issue 12): nothing to compare with");
    return;
  }
  const missing = roomActorsMetrics.filter((m) => !sources.includes(`"${m.instrument}"`)).map((m) => m.instrument);
  assert.deepEqual(missing, [], "instrument names in the metrics table but not in src/");
});

function csText(dir) {
  let text = "";
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "bin" && entry.name !== "obj") text += csText(p);
    else if (entry.name.endsWith(".cs")) text += fs.readFileSync(p, "utf8");
  }
  return text;
}
