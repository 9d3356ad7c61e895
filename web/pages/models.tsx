/**
 * The models page: registered models, their versions with metrics, training-data fingerprint and
 * lineage, aliases with promote/roll-back buttons (each move asks why and is recorded with who
 * made it), and the history of alias moves.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { ModelsPage } from "./models.tsx";
 * const store = await openStore({ memory: true });
 * try {
 *   const registry = await ModelRegistry.open(store.db);
 *   await registry.register({
 *     name: "flights_delay",
 *     algo: "logistic",
 *     task: "classification",
 *     params: {},
 *     metrics: { auc: 0.71 },
 *     columns: [],
 *     fingerprint: { rows: 1000, sha256: "0".repeat(64) },
 *     artifacts: {},
 *   });
 *   await registry.setAlias("flights_delay", "champion", 1, { reason: "first version" });
 *   const models = await registry.models();
 *   const moves = new Map([["flights_delay", await registry.aliasHistory("flights_delay")]]);
 *   const html = String(<ModelsPage models={models} history={moves} />);
 *   assert.match(html, /flights_delay/);
 *   assert.match(html, /first version/); // the alias history says why
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { FC } from "hono/jsx";
import type { AliasMove, ModelVersion } from "../../models/registry/registry.ts";
import { Layout } from "./layout.tsx";

/** The metric names across versions, one column each: the usual quality metrics first. */
export function metricColumns(versions: ModelVersion[]): string[] {
  const order = ["roc_auc", "accuracy", "f1", "log_loss", "rmse", "mae", "r2"];
  const keys = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))];
  const rank = (k: string) => (k === "rows" ? 1e9 : order.includes(k) ? order.indexOf(k) : 1e6);
  return keys.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

/** The version the champion held before its latest move, if it still exists. */
export function rollbackTarget(versions: ModelVersion[], history: AliasMove[]): number | null {
  const champion = versions.find((v) => v.aliases.includes("champion"))?.version ?? null;
  const last = history.find((h) => h.alias === "champion");
  if (!last || last.fromVersion === null || last.toVersion !== champion) return null;
  return versions.some((v) => v.version === last.fromVersion) ? last.fromVersion : null;
}

/** A form that moves `alias` of `name` to `version`, asking for the reason. */
const AliasForm: FC<{
  name: string;
  alias: string;
  version: number | null;
  label: string;
  reason: string;
  secondary?: boolean;
}> = (p) => (
  <form class="inline alias-form" method="post" action={`/models/${p.name}/aliases`}>
    <input type="hidden" name="alias" value={p.alias} />
    <input type="hidden" name="version" value={p.version === null ? "" : String(p.version)} />
    <input
      name="reason"
      required
      placeholder="why?"
      aria-label={`why: ${p.label}`}
      value={p.reason}
      size={18}
    />{" "}
    <button type="submit" class={p.secondary ? "secondary" : undefined}>{p.label}</button>
  </form>
);

export const ModelsPage: FC<{
  models: { name: string; description: string; versions: ModelVersion[] }[];
  history: Map<string, AliasMove[]>;
  /** A message after an alias move (or why it failed). */
  notice?: { ok: boolean; text: string } | null;
}> = (p) => (
  <Layout title="Models">
    <h1>Models</h1>
    {p.notice
      ? <p class={p.notice.ok ? "notice" : "error"} role="status">{p.notice.text}</p>
      : null}
    {p.models.length === 0 ? <p class="muted">No model is registered yet.</p> : null}
    {p.models.map((m) => {
      const history = p.history.get(m.name) ?? [];
      const champion = m.versions.find((v) => v.aliases.includes("champion"))?.version ?? null;
      const back = rollbackTarget(m.versions, history);
      const metricKeys = metricColumns(m.versions);
      return (
        <section>
          <h2>{m.name}</h2>
          {m.description ? <p class="muted">{m.description}</p> : null}
          <p>
            {champion === null
              ? <span class="muted">No champion yet: promote a version below.</span>
              : <span>{`Champion: v${champion}. `}</span>}
            {back !== null
              ? (
                <AliasForm
                  name={m.name}
                  alias="champion"
                  version={back}
                  label={`Roll back champion to v${back}`}
                  reason={`rollback from v${champion}`}
                  secondary
                />
              )
              : null}
          </p>
          <table>
            <thead>
              <tr>
                <th>version</th>
                <th>aliases</th>
                <th>algo</th>
                {metricKeys.map((k) => (
                  <th key={k} class="metric">{k === "rows" ? "holdout rows" : k}</th>
                ))}
                <th>training rows</th>
                <th>data sha256</th>
                <th>made by</th>
                <th>created</th>
                <th>actions</th>
              </tr>
            </thead>
            <tbody>
              {m.versions.map((v) => (
                <tr>
                  <td>{v.version}</td>
                  <td>
                    {v.aliases.map((a) => (
                      <span key={a} class="state" style="background:#17324d">{a}</span>
                    ))}
                  </td>
                  <td>{v.algo}</td>
                  {metricKeys.map((k) => (
                    <td
                      key={k}
                      class="metric"
                      style="text-align:right;font-variant-numeric:tabular-nums"
                    >
                      {v.metrics[k] === undefined
                        ? ""
                        : k === "rows"
                        ? String(v.metrics[k])
                        : v.metrics[k].toFixed(4)}
                    </td>
                  ))}
                  <td>{v.fingerprint.rows}</td>
                  <td>
                    <code>{v.fingerprint.sha256.slice(0, 12)}</code>
                  </td>
                  <td>
                    {v.lineage
                      ? (
                        <a href={`/runs/${v.lineage.runId}`}>
                          {`run ${v.lineage.runId} · ${v.lineage.taskId}`}
                        </a>
                      )
                      : ""}
                  </td>
                  <td>{v.createdAt.toISOString()}</td>
                  <td>
                    {v.version === champion ? <span class="muted">champion</span> : (
                      <AliasForm
                        name={m.name}
                        alias="champion"
                        version={v.version}
                        label={`Promote v${v.version} to champion`}
                        reason=""
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Alias moves</h2>
          <table>
            <thead>
              <tr>
                <th>when</th>
                <th>alias</th>
                <th>from</th>
                <th>to</th>
                <th>by</th>
                <th>why</th>
                <th>run</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr>
                  <td>{h.at.toISOString()}</td>
                  <td>{h.alias}</td>
                  <td>{h.fromVersion ?? "-"}</td>
                  <td>{h.toVersion ?? "-"}</td>
                  <td>{h.actor}</td>
                  <td>{h.reason}</td>
                  <td>{h.runId === null ? "" : <a href={`/runs/${h.runId}`}>{h.runId}</a>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      );
    })}
  </Layout>
);
