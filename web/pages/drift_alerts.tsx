/**
 * The drift page's alerts: newest first, a sent alert alone and repeats the cooldown suppressed
 * folded into one row with their count and first and last time.
 *
 * @example
 * ```tsx
 * import { AlertsTable, foldAlerts } from "./drift_alerts.tsx";
 * import type { AlertRow } from "../services/monitoring_data.ts";
 *
 * const section = (alerts: AlertRow[]) => <AlertsTable alerts={alerts} />; // alertRows(db, 50)
 * foldAlerts([]); // []
 * ```
 */
import type { FC } from "hono/jsx";
import type { AlertRow } from "../services/monitoring_data.ts";

/** Alerts as the page lists them: a sent alert alone, repeated suppressed ones folded into one. */
export interface AlertGroup {
  /** The newest alert of the group. */
  latest: AlertRow;
  count: number;
  firstAt: string;
  lastAt: string;
  suppressed: boolean;
}

/**
 * Folds suppressed repeats (same key, level and title, with no sent alert of that key between
 * them) into one group with their count and first/last time. Input and output newest first.
 */
export function foldAlerts(alerts: readonly AlertRow[]): AlertGroup[] {
  const out: AlertGroup[] = [];
  const open = new Map<string, AlertGroup>();
  for (const a of alerts) {
    if (!a.suppressed) {
      open.delete(a.key);
      out.push({ latest: a, count: 1, firstAt: a.at, lastAt: a.at, suppressed: false });
      continue;
    }
    const g = open.get(a.key);
    if (g && g.latest.level === a.level && g.latest.title === a.title) {
      g.count++;
      g.firstAt = a.at < g.firstAt ? a.at : g.firstAt;
      continue;
    }
    const fresh = { latest: a, count: 1, firstAt: a.at, lastAt: a.at, suppressed: true };
    open.set(a.key, fresh);
    out.push(fresh);
  }
  return out;
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 19);

/** The alerts, suppressed repeats folded ("No alerts." when there are none). */
export const AlertsTable: FC<{ alerts: readonly AlertRow[] }> = (p) => {
  const alerts = foldAlerts(p.alerts);
  return (
    <>
      {alerts.length === 0 ? <p class="muted">No alerts.</p> : (
        <table class="alerts">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>level</th>
              <th>alert key</th>
              <th>title</th>
              <th>run</th>
              <th>delivery</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((g) => (
              <tr class={g.suppressed ? "suppressed" : "sent"}>
                <td style="white-space:nowrap">
                  {g.count > 1 ? `${when(g.firstAt)} – ${when(g.lastAt)}` : when(g.lastAt)}
                </td>
                <td>{g.latest.level}</td>
                <td>{g.latest.key}</td>
                <td title={g.latest.message}>{g.latest.title}</td>
                <td>
                  {g.latest.runId ? <a href={`/runs/${g.latest.runId}`}>{g.latest.runId}</a> : ""}
                  {g.count > 1 && g.latest.runId ? <span class="muted">(latest)</span> : null}
                </td>
                <td class="muted">
                  {g.suppressed
                    ? g.count > 1
                      ? `suppressed ×${g.count} (cooldown: repeats folded)`
                      : "suppressed (cooldown)"
                    : "sent"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
};
