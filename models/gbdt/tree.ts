/**
 * A regression tree of the GBDT as flat arrays, and its prediction. Internal nodes send a row left
 * when its float32 value is ≤ the node's float32 threshold; leaves hold float32 values (what an ONNX
 * TreeEnsemble stores).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictTree, type Tree } from "./tree.ts";
 * // one split on feature 0 at 0.5: left leaf −1, right leaf 1
 * const t: Tree = {
 *   output: 0,
 *   feature: [0, -1, -1],
 *   threshold: [0.5, 0, 0],
 *   left: [1, -1, -1],
 *   right: [2, -1, -1],
 *   value: [0, -1, 1],
 * };
 * assert.equal(predictTree(t, (f) => [0.2][f]), -1);
 * assert.equal(predictTree(t, (f) => [0.7][f]), 1);
 * ```
 */

/** One tree; node 0 is the root; `feature` −1 marks a leaf. */
export interface Tree {
  /** Which output (class or regression target) the tree adds to. */
  output: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

/** The leaf value a row reaches; `x(f)` gives the row's float32 value of feature f. */
export function predictTree(tree: Tree, x: (feature: number) => number): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    node = x(tree.feature[node]) <= tree.threshold[node] ? tree.left[node] : tree.right[node];
  }
  return tree.value[node];
}
