/**
 * The stream protocol of the detection benchmark: the monitoring loop of `drift_monitoring` run
 * in-process over the later periods of a {@link BenchSetup} (one batch per period), with a
 * scenario's drift events injected, to count what the loop does: batches flagged before the
 * onset, the detection delay, needless retrains, and whether promotions improved the next batch.
 *
 * Each batch is judged by {@link judgeBatch} with the previous verdicts as history and acted on by
 * the grade's default action: `retrain` fits a challenger as `training` does by default — on a
 * cumulative window (rows of the reference period plus every labelled batch before the newest) —
 * and gates it against the champion on the newest batch (its out-of-time holdout) by ROC AUC. (A
 * sliding window of the last two weeks, `window: "sliding"`, is available but weak on this data:
 * its gain over the champion on one week says little about the next — weekly differences swing
 * by ±0.04 AUC with no trend — so its promotions improved the next batch in 27 of 35 cases against
 * 31 of 32 for the cumulative window over 8 seeds of the default scenarios.) `recalibrate`
 * proposes the champion with its log-odds shifted by logit(π_batch) − logit(π_calibrated)
 * (π_calibrated: the positive share of the rows it was trained on, as `recalibrateChampion` does;
 * Saerens et al. 2002) and gates it out of sample, on the NEXT
 * labelled batch, by log loss ({@link gateRecalibration}): the shift fitted on batch t is promoted
 * at batch t + 1 only if it beats the champion there, so a week's noisy late share is not taken for
 * the next week's (gating on batch t itself, where the shift is the maximum-likelihood intercept,
 * promotes noise). The gain's SE also carries the week-to-week SD of the late share
 * ({@link shareSdBetweenBatches} over the labelled batches so far; no gate before 4 batches), so
 * one week wobbling the same way as the last is not taken for a move. A proposal is dropped when
 * the champion changes meanwhile. Both gates are
 * `training`'s ({@link gateDecision}: the improvement's one-sided 95 % lower bound, with the
 * retraining noise measured by refits, must be above zero): a candidate no better than the
 * champion on the test batch is promoted with probability ≤ 0.05.
 *
 * `improvedNext` compares the new champion with the one it replaced on the batch after the
 * promotion (never the gate's batch): ROC AUC for a retrain, log loss for a recalibration (a pure
 * shift cannot change AUC).
 * The in-process loop replaces the DAG runs (and their training search) to keep the benchmark
 * within minutes; the judgement and the actions are the same functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { setupBench } from "./detection.ts";
 * import { DEFAULT_SCENARIOS, runStream, type Scenario } from "./stream_protocol.ts";
 * // a small time-ordered labelled data set, and a stream of 4 later periods of 300 rows
 * const rng = new Random(1);
 * const flights = (n: number, from: number) => {
 *   const distance = Float64Array.from({ length: n }, () => 800 + 300 * rng.normal());
 *   return {
 *     date: Float64Array.from({ length: n }, (_, i) => (from + i) * 3_600_000),
 *     distance,
 *     origin: Array.from({ length: n }, () => ["SEA", "SFO", "LAX"][rng.int(3)]),
 *     late: Array.from(distance, (d) => (d + 300 * rng.normal() > 900 ? "yes" : "no")),
 *   };
 * };
 * const setup = setupBench(flights(2000, 0), flights(1200, 2000), {
 *   features: ["distance", "origin"],
 *   trainRows: 800,
 *   rounds: 10,
 *   referenceRows: 600,
 *   periodRows: 300,
 *   periods: 4,
 * });
 * const options = { batchSize: 200, rounds: 10, seed: 1 };
 * const clean = runStream(setup, DEFAULT_SCENARIOS[0], options); // "clean (season only)"
 * assert.equal(clean.summary.batches, 4);
 * assert.equal(clean.summary.needlessRetrains, 0);
 * const burst: Scenario = {
 *   name: "missing distances from batch 2",
 *   events: [{ atBatch: 2, drift: { kind: "missing", column: "distance", share: 0.3 } }],
 *   onset: 2,
 * };
 * assert.equal(runStream(setup, burst, options).summary.delay, 0); // flagged at the onset
 * ```
 */
import { z } from "zod";
import { gateDecision } from "../../models/gate.ts";
import { gateRecalibration, shareSdBetweenBatches } from "../../models/recalibrate.ts";
import { refitMetrics, sampleSd } from "../../models/retrain_noise.ts";
import { type TrainedModel, trainModel } from "../../models/model.ts";
import { concatTables, rowCount, type Table, takeRows } from "../../models/core/table.ts";
import { applyEvents, DriftEvent } from "../drift/inject.ts";
import { fnv1a, Random } from "../../models/core/random.ts";
import { referenceAtPrior } from "./champion.ts";
import { BENCH_POLICY, type BenchSetup, ESCALATED, SCORE_COLUMN, withScores } from "./detection.ts";
import { type Action, actionFor, Grade, judgeBatch, type JudgePolicy } from "./judge.ts";
import type { SeverityResult } from "../drift/schema.ts";

/** A stream scenario: events, when the drift starts, which grades count as detecting it. */
export const Scenario = z.object({
  name: z.string().min(1),
  events: z.array(DriftEvent).default([]),
  /** The first drifted batch (null: a clean stream). */
  onset: z.number().int().nonnegative().nullable().default(null),
  /** Grades that count as detecting the drift (empty: any grade above none). */
  detectedBy: z.array(Grade).default([]),
  /** Whether the drift calls for a retrain (concept, a major covariate change). */
  retrainWanted: z.boolean().default(false),
});
export type Scenario = z.input<typeof Scenario>;

/** The clean stream and four scenario streams. */
export const DEFAULT_SCENARIOS: Scenario[] = [
  { name: "clean (season only)" },
  {
    name: "gradual prior shift",
    events: [{
      atBatch: 4,
      pattern: "gradual",
      duration: 3,
      drift: { kind: "prior_shift", target: "late", positiveShare: 0.4 },
    }],
    onset: 4,
    detectedBy: ["prior"],
  },
  {
    name: "concept change",
    events: [{
      atBatch: 4,
      drift: {
        kind: "boundary_rotation",
        target: "late",
        features: ["hour", "distance"],
        degrees: 90,
      },
    }],
    onset: 4,
    detectedBy: ["concept"],
    retrainWanted: true,
  },
  {
    name: "recurring missing burst",
    events: [{
      atBatch: 3,
      pattern: "recurring",
      duration: 1,
      period: 4,
      drift: { kind: "missing", column: "distance", share: 0.1 },
    }],
    onset: 3,
  },
  {
    name: "incremental mean shift",
    events: [{
      atBatch: 4,
      pattern: "incremental",
      duration: 4,
      drift: { kind: "mean_shift", column: "distance", k: 1 },
    }],
    onset: 4,
    retrainWanted: true,
  },
];

/** One batch of a stream run. */
export interface StreamBatch {
  batch: number;
  period: string;
  drifted: boolean;
  severity: Grade;
  action: Action;
  retrained: boolean;
  recalibrated: boolean;
  promoted: boolean;
  championVersion: number;
  aucReference: number | null;
  aucRealized: number | null;
  reasons: string[];
  /** For a promotion: did the new champion beat the replaced one on the next batch? */
  improvedNext: boolean | null;
}

/** What a stream run counts. */
export interface StreamSummary {
  scenario: string;
  batches: number;
  onset: number | null;
  /** Batches before the onset graded minor or above / moderate, major or concept / prior. */
  flaggedBeforeOnset: number;
  escalatedBeforeOnset: number;
  priorBeforeOnset: number;
  /** Batches from the onset to the first detecting grade (null: never detected). */
  delay: number | null;
  retrains: number;
  needlessRetrains: number;
  recalibrations: number;
  promotions: number;
  /** Promotions judged on a next batch, and how many of them improved on it. */
  promotionsJudged: number;
  promotionsImproved: number;
}

/** Options of a stream run. */
export const StreamOptions = z.object({
  batchSize: z.number().int().positive().default(10_000),
  seed: z.number().int().default(1),
  /**
   * What a retrain fits on, as `training`'s `window`: `cumulative` (its default) = `initialRows`
   * rows of the reference period's pool plus every labelled batch before the newest; `sliding` =
   * the `windowBatches` − 1 batches before the newest. The newest batch is the holdout either way.
   */
  window: z.enum(["cumulative", "sliding"]).default("cumulative"),
  /** Batches of a sliding window, the newest (the holdout) included. */
  windowBatches: z.number().int().min(2).default(3),
  /** Rows of the pool a cumulative window starts from (`training`'s `initialRows`). */
  initialRows: z.number().int().positive().default(20_000),
  rounds: z.number().int().positive().default(60),
  gateMargin: z.number().min(0).default(0.002),
});
export type StreamOptions = z.input<typeof StreamOptions>;

interface Champion {
  version: number;
  model: TrainedModel;
  /** Log-odds added to the model's score (recalibration). */
  shift: number;
  /** The prior its probabilities are calibrated to (its training rows' positive share). */
  calibratedShare: number;
  reference: Table;
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function scoresOf(setup: BenchSetup, c: Champion, t: Table): Table {
  const scored = withScores(c.model, t, setup.positiveLabel);
  if (c.shift === 0) return scored;
  const s = scored[SCORE_COLUMN] as Float64Array;
  return { ...scored, [SCORE_COLUMN]: s.map((p) => sigmoid(logit(clamp(p)) + c.shift)) };
}

const clamp = (p: number) => Math.min(1 - 1e-9, Math.max(1e-9, p));

function labels(setup: BenchSetup, t: Table): Float64Array {
  const y = t[setup.target];
  return Float64Array.from(
    { length: rowCount(t) },
    (_, i) => (y[i] === setup.positiveLabel ? 1 : 0),
  );
}

function positiveShare(setup: BenchSetup, t: Table): number {
  const y = labels(setup, t);
  return y.reduce((a, b) => a + b, 0) / Math.max(1, y.length);
}

function stripScores(t: Table): Table {
  const { [SCORE_COLUMN]: _, ...rest } = t;
  return rest;
}

/** The rows a retrain fits on: see {@link StreamOptions}' `window` (`earlier`: the labelled batches before the holdout). */
export function retrainRows(
  setup: Pick<BenchSetup, "pool">,
  earlier: Table[],
  options: StreamOptions,
  seed: number,
): Table {
  const o = StreamOptions.parse(options);
  const initial = () => {
    const n = Math.min(o.initialRows, rowCount(setup.pool));
    return takeRows(setup.pool, new Random(seed).sample(rowCount(setup.pool), n));
  };
  if (o.window === "cumulative") return concatTables([initial(), ...earlier]);
  const window = earlier.slice(-(o.windowBatches - 1));
  return window.length ? concatTables(window) : initial();
}

/** Runs the monitoring loop over the setup's later periods with a scenario's events. */
export function runStream(
  setup: BenchSetup,
  scenarioInput: Scenario,
  options: StreamOptions = {},
  policy: JudgePolicy = BENCH_POLICY,
  progress?: (done: number, total: number) => void,
): { batches: StreamBatch[]; summary: StreamSummary } {
  const scenario = Scenario.parse(scenarioInput);
  const o = StreamOptions.parse(options);
  if (setup.later.length === 0) throw new RangeError("runStream: the setup has no later periods");
  const base = (o.seed * 1_000_003 + fnv1a(scenario.name)) >>> 0;
  let champion: Champion = {
    version: 1,
    model: setup.model,
    shift: 0,
    calibratedShare: setup.calibratedShare,
    reference: setup.reference,
  };
  let versions = 1;
  let history: SeverityResult[] = [];
  const labelled: Table[] = [];
  const out: StreamBatch[] = [];
  let pending: { previous: Champion; at: number; metric: "roc_auc" | "log_loss" } | null = null;
  // a recalibration fitted on an earlier batch, waiting for the next labelled batch's gate
  let proposal: { candidate: Champion; of: number; fitLabels: Float64Array } | null = null;
  const total = setup.later.length;
  for (let b = 0; b < total; b++) {
    progress?.(b, total);
    const period = setup.later[b];
    const rng = new Random(base + b);
    const raw = takeRows(period.rows, rng.sample(rowCount(period.rows), o.batchSize));
    const { table, truth } = applyEvents(raw, scenario.events, b, base, setup.scales);
    if (pending) {
      const y = labels(setup, table);
      const now = scoresOf(setup, champion, table)[SCORE_COLUMN] as Float64Array;
      const before = scoresOf(setup, pending.previous, table)[SCORE_COLUMN] as Float64Array;
      const d = gateDecision(y, before, now, { metric: pending.metric, rounds: 1 });
      out[pending.at].improvedNext = (d.improvement?.value ?? 0) > 0;
      pending = null;
    }
    let promotedHere = false;
    const shares = [...labelled, table].map((t) => positiveShare(setup, t));
    const shareSd = shareSdBetweenBatches(shares, o.batchSize);
    if (proposal && proposal.of === champion.version && shareSd !== null) {
      const y = labels(setup, table);
      const g = gateRecalibration(
        proposal.fitLabels,
        y,
        scoresOf(setup, champion, table)[SCORE_COLUMN] as Float64Array,
        clamp(champion.calibratedShare),
        { rounds: 200, seed: base + b, shareSd },
      );
      if (g.decision.wouldPromote) {
        const candidate = proposal.candidate;
        candidate.reference = scoresOf(setup, candidate, candidate.reference);
        pending = { previous: champion, at: b, metric: "log_loss" };
        champion = candidate;
        history = []; // a new champion and reference: persistence starts again
        promotedHere = true;
      }
    }
    proposal = null;
    const current = scoresOf(setup, champion, table);
    const j = judgeBatch({
      reference: champion.reference,
      current,
      features: setup.features,
      target: setup.target,
      prediction: SCORE_COLUMN,
      positiveLabel: setup.positiveLabel,
      seed: base + b,
      policy,
      history,
    });
    const action = actionFor(j.severity);
    const row: StreamBatch = {
      batch: b,
      period: period.name,
      drifted: truth.drifted,
      severity: j.severity,
      action,
      retrained: false,
      recalibrated: false,
      promoted: promotedHere,
      championVersion: champion.version,
      aucReference: j.metrics.roc_auc?.reference ?? null,
      aucRealized: j.metrics.roc_auc?.realized ?? null,
      reasons: j.reasons,
      improvedNext: null,
    };
    history.push(j.verdict);
    labelled.push(table);
    const y = labels(setup, table);
    const championScores = current[SCORE_COLUMN] as Float64Array;
    if (action === "retrain") {
      row.retrained = true;
      const trainOn = retrainRows(setup, labelled.slice(0, -1), o, base);
      const { model } = trainModel(trainOn, {
        target: setup.target,
        seed: base + b,
        validFraction: 0,
        params: { nEstimators: o.rounds },
      });
      const challenger: Champion = {
        version: ++versions,
        model,
        shift: 0,
        calibratedShare: positiveShare(setup, trainOn),
        reference: withScores(model, table, setup.positiveLabel),
      };
      const challengerScores = challenger.reference[SCORE_COLUMN] as Float64Array;
      // retraining noise, as `training` measures it: refits on subsamples, scored on the holdout
      const refits = refitMetrics(trainOn, table, {
        target: setup.target,
        seed: base + b,
        validFraction: 0,
        params: { nEstimators: o.rounds },
      }, { fits: 3, seed: base + b });
      const d = gateDecision(y, championScores, challengerScores, {
        metric: "roc_auc",
        margin: o.gateMargin,
        rounds: 200,
        seed: base + b,
        retrainSd: Math.SQRT2 * sampleSd(refits.roc_auc ?? []),
      });
      if (d.wouldPromote) {
        // a promotion gated on this batch is judged on the next one (a recalibration promoted
        // here is superseded: the retrain's champion is the one to compare)
        if (!promotedHere) pending = { previous: champion, at: b, metric: "roc_auc" };
        else pending = { previous: pending!.previous, at: b, metric: "roc_auc" };
        champion = challenger;
        history = []; // a new champion and reference: persistence starts again
        row.promoted = true;
      }
    } else if (action === "recalibrate") {
      row.recalibrated = true;
      const prior = positiveShare(setup, table);
      const shift = champion.shift + logit(clamp(prior)) - logit(clamp(champion.calibratedShare));
      proposal = {
        of: champion.version,
        fitLabels: y,
        candidate: {
          version: ++versions,
          model: champion.model,
          shift,
          calibratedShare: prior,
          // as drift_monitoring: the same reference rows, at the new prior
          reference: referenceAtPrior(
            stripScores(champion.reference),
            setup.target,
            setup.positiveLabel,
            prior,
            base + b,
          ),
        },
      };
    }
    out.push(row);
  }
  progress?.(total, total);
  return { batches: out, summary: summariseStream(scenario, out) };
}

/** The counts of a stream run. */
export function summariseStream(scenarioInput: Scenario, batches: StreamBatch[]): StreamSummary {
  const s = Scenario.parse(scenarioInput);
  const onset = s.onset;
  const before = batches.filter((b) => onset === null || b.batch < onset);
  const detects = (g: Grade) => s.detectedBy.length ? s.detectedBy.includes(g) : g !== "none";
  const first = onset === null
    ? undefined
    : batches.find((b) => b.batch >= onset && detects(b.severity));
  const retrains = batches.filter((b) => b.retrained);
  const promoted = batches.filter((b) => b.promoted);
  const judged = promoted.filter((b) => b.improvedNext !== null);
  return {
    scenario: s.name,
    batches: batches.length,
    onset,
    flaggedBeforeOnset: before.filter((b) => b.severity !== "none").length,
    escalatedBeforeOnset: before.filter((b) => ESCALATED.has(b.severity)).length,
    priorBeforeOnset: before.filter((b) => b.severity === "prior").length,
    delay: first ? first.batch - onset! : null,
    retrains: retrains.length,
    needlessRetrains:
      retrains.filter((b) => !s.retrainWanted || onset === null || b.batch < onset).length,
    recalibrations: batches.filter((b) => b.recalibrated).length,
    promotions: promoted.length,
    promotionsJudged: judged.length,
    promotionsImproved: judged.filter((b) => b.improvedNext).length,
  };
}
