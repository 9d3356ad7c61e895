/**
 * The models page: registered models, their versions with metrics, training-data fingerprint and
 * lineage, aliases, and the history of alias moves.
 *
 * @example
 * ```tsx
 * <ModelsPage models={await registry.models()} history={moves} />
 * ```
 */
import type { FC } from "hono/jsx";
import type { AliasMove, ModelVersion } from "../../models/registry/registry.ts";
import { Layout } from "./layout.tsx";

export const ModelsPage: FC<{
  models: { name: string; description: string; versions: ModelVersion[] }[];
  history: Map<string, AliasMove[]>;
}> = (p) => (
  <Layout title="Models">
    <h1>Models</h1>
    {p.models.length === 0 ? <p class="muted">No model is registered yet.</p> : null}
    {p.models.map((m) => (
      <section>
        <h2>{m.name}</h2>
        {m.description ? <p class="muted">{m.description}</p> : null}
        <table>
          <thead>
            <tr>
              <th>version</th>
              <th>aliases</th>
              <th>algo</th>
              <th>metrics</th>
              <th>training rows</th>
              <th>data sha256</th>
              <th>made by</th>
              <th>created</th>
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
                <td>
                  {Object.entries(v.metrics).map(([k, x]) => `${k} ${Number(x.toPrecision(4))}`)
                    .join(" · ")}
                </td>
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
              <th>why</th>
              <th>run</th>
            </tr>
          </thead>
          <tbody>
            {(p.history.get(m.name) ?? []).map((h) => (
              <tr>
                <td>{h.at.toISOString()}</td>
                <td>{h.alias}</td>
                <td>{h.fromVersion ?? "-"}</td>
                <td>{h.toVersion ?? "-"}</td>
                <td>{h.reason}</td>
                <td>{h.runId === null ? "" : <a href={`/runs/${h.runId}`}>{h.runId}</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    ))}
  </Layout>
);
